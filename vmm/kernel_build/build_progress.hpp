// What a kernel build is doing, read from make's output: the phase and
// the number of objects compiled so far. Kbuild prints one short line per
// step ("  CC      kernel/fork.o", "  LD      vmlinux.o"); the tools'
// Makefiles (libbpf, bpftool, sched_ext) print the same kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ktstr::vmm::kernel_build {

enum class Phase { source, config, compile, link, schedulers, install };
inline constexpr int phase_count = 6;

std::string_view phase_name(Phase phase);  // "source", "config", ...

struct KbuildLine {
    std::string_view tag;     // "CC", "LD", "CLNG-BPF"
    std::string_view target;  // "kernel/fork.o"
};

// A quiet-mode step line: two spaces, a tag of capitals, digits, '-' or
// '_' starting with a capital, spaces, the target. nullopt for anything
// else (compiler messages, make's own lines).
std::optional<KbuildLine> parse_kbuild_line(std::string_view line);

// Counts compiled objects (CC, AS, HOSTCC, HOSTCXX, CXX, CLANG, CLNG-BPF steps)
// and moves from compile to link at the first link of vmlinux (LD
// vmlinux.o, .tmp_vmlinux*, vmlinux): Kbuild links only after every
// object is built. The phase only moves forward.
class MakeProgress {
public:
    explicit MakeProgress(Phase phase) : phase_(phase) {}
    // One line of make's output; true when the phase or the count moved.
    bool feed(std::string_view line);
    Phase phase() const noexcept { return phase_; }
    std::uint64_t objects() const noexcept { return objects_; }

private:
    Phase phase_;
    std::uint64_t objects_ = 0;
};

// "45s", "4m03s", "1h02m05s".
std::string format_duration(double seconds);

// The progress line: "ktstr-vmm: kernel build: compile: 5321 objects (4m03s)".
std::string progress_text(Phase phase, std::string_view detail, double elapsed_seconds);

}  // namespace ktstr::vmm::kernel_build
