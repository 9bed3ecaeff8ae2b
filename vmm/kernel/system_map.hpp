// A kernel's System.map (`nm -n` of vmlinux: "ADDRESS TYPE NAME" a line),
// read to name where a vCPU was when a guest hung: "do_idle+0x1a4".
// Only text symbols (types t, T, w, W) are kept. The file is the host's,
// but it is bounded anyway (max_bytes); lines that do not parse are
// skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::vmm::kernel {

class SystemMap {
public:
    static constexpr std::uintmax_t max_bytes = 64ull << 20;

    // Throws std::runtime_error naming the file when it cannot be read or
    // is larger than max_bytes.
    static SystemMap read(const std::filesystem::path& path);
    static SystemMap parse(std::string_view text);
    // For diagnostics, where a missing map only leaves addresses bare: the
    // map at `path`, or nullopt when the path is empty, the file cannot be
    // read, or it names no text symbol (Debian's System.map is such a
    // one-line stub; the real one is in the -dbg package).
    static std::optional<SystemMap> read_if_useful(const std::filesystem::path& path);

    // "name+0xOFF" of the text symbol at or below `address`, nullopt when
    // the address is below the first or past the last symbol (`_etext`
    // and later markers bound the text).
    std::optional<std::string> describe(std::uint64_t address) const;
    // The address of the text symbol `name` (e.g. "_text"), if present.
    std::optional<std::uint64_t> address_of(std::string_view name) const;
    std::size_t size() const noexcept { return symbols_.size(); }

private:
    struct Symbol {
        std::uint64_t address;
        std::string name;
    };
    std::vector<Symbol> symbols_;  // sorted by address
    std::uint64_t text_end_ = 0;   // _etext when present, else the last symbol's address
};

// The System.map that belongs to a kernel image: System.map-RELEASE next
// to vmlinuz-RELEASE (Debian's /boot layout), else System.map in the same
// directory or at the top of a kernel tree (arch/x86/boot/bzImage).
std::optional<std::filesystem::path> system_map_for(const std::filesystem::path& bzimage, const std::string& release);

}  // namespace ktstr::vmm::kernel
