#include "ktstr/common/kernel_cmdline_params.hpp"
#include "ktstr/common/boot_mark.hpp"

#include <charconv>
#include <limits>

#include "ktstr/common/shm_ring.hpp"

namespace ktstr::cmdline_params {
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

// "0x" and lowercase hex digits, as fmt's {:#x} writes them (the command
// lines the VMM produced before this file existed, byte for byte).
void append_hex(std::string& out, std::uint64_t v) {
    char digits[std::numeric_limits<std::uint64_t>::digits / 4];
    const auto r = std::to_chars(digits, digits + sizeof digits, v, 16);
    out += "0x";
    out.append(digits, r.ptr);
}

}  // namespace

std::string format_vmm_params(const ShmParams& shm) {
    std::string s(guest_word);
    s.push_back(' ');
    s += shm_base_key;
    s.push_back('=');
    append_hex(s, shm.base);
    s.push_back(' ');
    s += shm_size_key;
    s.push_back('=');
    append_hex(s, shm.size);
    return s;
}

bool sets_vmm_param(std::string_view word) noexcept {
    const auto key = word.substr(0, word.find('='));
    return key == guest_key || key == shm_base_key || key == shm_size_key || key == boot_mark_key;
}

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
    auto base_s = cmdline_value(cmdline, shm_base_key);
    auto size_s = cmdline_value(cmdline, shm_size_key);
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

std::optional<std::uint64_t> parse_boot_mark_address(std::string_view cmdline) noexcept {
    const auto text = cmdline_value(cmdline, boot_mark_key);
    if (!text)
        return std::nullopt;
    const auto address = parse_hex(*text);
    if (!address || *address == 0 || (*address & 0xfff) != 0)
        return std::nullopt;
    return address;
}

}  // namespace ktstr::cmdline_params
