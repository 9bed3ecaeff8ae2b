#include "ktstr/guest/phys_base.hpp"

#include <charconv>

#include "ktstr/guest/bounded_file.hpp"
#include "ktstr/guest/paths.hpp"

namespace ktstr::guest {
namespace {

// Without KASLR the x86_64 kernel loads at CONFIG_PHYSICAL_START.
constexpr std::uint64_t x86_load_physical_addr = 0x1000000;

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// For a line "start-end : name", the start when the name is `name`.
std::optional<std::uint64_t> start_if_named(std::string_view line, std::string_view name) noexcept {
    auto colon = line.find(':');
    if (colon == std::string_view::npos || trim(line.substr(colon + 1)) != name)
        return std::nullopt;
    auto range = trim(line.substr(0, colon));
    auto dash = range.find('-');
    if (dash == std::string_view::npos || dash == 0)
        return std::nullopt;
    auto start = range.substr(0, dash);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(start.data(), start.data() + start.size(), v, 16);
    if (ec != std::errc{} || p != start.data() + start.size())
        return std::nullopt;
    return v;
}

template <typename F>
void for_each_line(std::string_view text, F f) {
    while (!text.empty()) {
        auto nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos)
            break;
        text.remove_prefix(nl + 1);
    }
}

}  // namespace

Arch native_arch() noexcept {
#if defined(__aarch64__)
    return Arch::aarch64;
#else
    return Arch::x86_64;
#endif
}

std::optional<std::uint64_t> phys_base_from_iomem(std::string_view iomem, Arch arch) noexcept {
    std::optional<std::uint64_t> code;
    std::optional<std::uint64_t> ram;
    for_each_line(iomem, [&](std::string_view line) {
        if (!code)
            code = start_if_named(line, "Kernel code");
        if (!ram)
            ram = start_if_named(line, "System RAM");
    });
    if (!code)
        return std::nullopt;
    if (arch == Arch::x86_64)
        return *code - x86_load_physical_addr;  // wraps like the kernel's unsigned arithmetic
    if (!ram)
        return std::nullopt;
    return *code - *ram;
}

std::optional<std::uint64_t> read_phys_base() {
    auto f = read_bounded_file(paths().iomem, 1 << 20);
    if (!f)
        return std::nullopt;
    return phys_base_from_iomem(f->bytes, native_arch());
}

}  // namespace ktstr::guest
