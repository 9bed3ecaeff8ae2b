#include "kernel_build/build_progress.hpp"

#include <array>
#include <cmath>

#include <fmt/core.h>

namespace ktstr::vmm::kernel_build {

std::string_view phase_name(Phase phase) {
    static constexpr std::array<std::string_view, phase_count> names = {"source",  "config",     "compile",
                                                                        "link",    "schedulers", "install"};
    return names.at(static_cast<std::size_t>(phase));
}

std::optional<KbuildLine> parse_kbuild_line(std::string_view line) {
    if (line.size() < 4 || !line.starts_with("  ") || !(line[2] >= 'A' && line[2] <= 'Z'))
        return std::nullopt;
    std::size_t end = 2;
    auto tag_char = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; };
    while (end < line.size() && tag_char(line[end]))
        ++end;
    if (end == line.size() || line[end] != ' ')
        return std::nullopt;
    auto rest = line.substr(end);
    rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
    if (rest.starts_with("[M]")) {
        rest.remove_prefix(3);
        rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
    }
    if (rest.empty())
        return std::nullopt;
    return KbuildLine{line.substr(2, end - 2), rest};
}

bool MakeProgress::feed(std::string_view line) {
    const auto step = parse_kbuild_line(line);
    if (!step)
        return false;
    const auto& t = step->tag;
    if (t == "CC" || t == "AS" || t == "HOSTCC" || t == "HOSTCXX" || t == "CXX" || t == "CLNG-BPF" || t == "CLANG") {
        ++objects_;
        return true;
    }
    const bool links_vmlinux = (t == "LD" || t == "LINK") &&
                               (step->target == "vmlinux.o" || step->target == "vmlinux" ||
                                step->target.starts_with(".tmp_vmlinux"));
    if (links_vmlinux && phase_ == Phase::compile) {
        phase_ = Phase::link;
        return true;
    }
    return false;
}

std::string format_duration(double seconds) {
    const auto s = static_cast<long long>(std::floor(std::max(seconds, 0.0)));
    if (s < 60)
        return fmt::format("{}s", s);
    if (s < 3600)
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60);
}

std::string progress_text(Phase phase, std::string_view detail, double elapsed_seconds) {
    if (detail.empty())
        return fmt::format("ktstr-vmm: kernel build: {} ({})", phase_name(phase), format_duration(elapsed_seconds));
    return fmt::format("ktstr-vmm: kernel build: {}: {} ({})", phase_name(phase), detail,
                       format_duration(elapsed_seconds));
}

}  // namespace ktstr::vmm::kernel_build
