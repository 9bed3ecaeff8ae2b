#include "ktstr/guest/kernel_cmdline.hpp"

#include <atomic>
#include <charconv>

#include "ktstr/common/shm_ring.hpp"
#include "ktstr/guest/bounded_file.hpp"
#include "ktstr/guest/paths.hpp"

namespace ktstr::guest {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Calls f(word) for each whitespace-separated word until f returns true.
template <typename F>
bool for_each_word(std::string_view s, F f) {
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i]))
            ++i;
        std::size_t j = i;
        while (j < s.size() && !is_space(s[j]))
            ++j;
        if (j > i && f(s.substr(i, j - i)))
            return true;
        i = j;
    }
    return false;
}

std::optional<std::uint64_t> parse_hex(std::string_view s) noexcept {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s.remove_prefix(2);
    if (s.empty())
        return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    if (ec != std::errc{} || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

}  // namespace

bool cmdline_has_token(std::string_view cmdline, std::string_view token) noexcept {
    return for_each_word(cmdline, [&](std::string_view w) { return w == token; });
}

std::optional<std::string_view> cmdline_value(std::string_view cmdline, std::string_view key) noexcept {
    std::optional<std::string_view> out;
    for_each_word(cmdline, [&](std::string_view w) {
        if (w.size() > key.size() && w.substr(0, key.size()) == key && w[key.size()] == '=') {
            out = w.substr(key.size() + 1);
            return true;
        }
        return false;
    });
    return out;
}

std::optional<ShmParams> parse_shm_params(std::string_view cmdline) noexcept {
    auto base_s = cmdline_value(cmdline, "KTSTR_SHM_BASE");
    auto size_s = cmdline_value(cmdline, "KTSTR_SHM_SIZE");
    if (!base_s || !size_s)
        return std::nullopt;
    auto base = parse_hex(*base_s);
    auto size = parse_hex(*size_s);
    if (!base || !size || *size == 0)
        return std::nullopt;
    // A region larger than a header plus the largest capacity is not a
    // ring the host made; refusing it keeps the mapping bounded.
    if (*size > shm::header_size + shm::max_capacity)
        return std::nullopt;
    if (*base + *size < *base)
        return std::nullopt;
    return ShmParams{*base, *size};
}

std::string read_kernel_cmdline() {
    auto f = read_bounded_file(paths().cmdline, 64 * 1024);
    return f ? std::move(f->bytes) : std::string{};
}

bool is_guest() {
    // Cached per paths generation; a race only computes the same value twice.
    static std::atomic<std::uint64_t> cached_generation{~std::uint64_t{0}};
    static std::atomic<bool> cached_value{false};
    const auto gen = paths_generation();
    if (cached_generation.load(std::memory_order_acquire) == gen)
        return cached_value.load(std::memory_order_relaxed);
    bool v = cmdline_has_token(read_kernel_cmdline(), "KTSTR_GUEST=1");
    cached_value.store(v, std::memory_order_relaxed);
    cached_generation.store(gen, std::memory_order_release);
    return v;
}

}  // namespace ktstr::guest
