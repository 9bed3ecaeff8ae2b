#include "ktstr/common/utf8.hpp"

namespace ktstr {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char c) noexcept { return (c & 0xC0) == 0x80; }

// The length of the well-formed sequence at s[i], or 0 when there is none
// (Unicode's table 3-7 of well-formed byte sequences).
std::size_t sequence_length(std::string_view s, std::size_t i) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    if (c < 0x80)
        return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;  // overlong
        if (c == 0xED)
            hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;  // overlong
        if (c == 0xF4)
            hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() - i < n)
        return 0;
    if (b(1) < lo || b(1) > hi)
        return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (!is_continuation(b(k)))
            return 0;
    return n;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = sequence_length(s, i);
        if (n == 0) {
            out += replacement;
            ++i;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

std::size_t utf8_prefix_length(std::string_view s, std::size_t max) noexcept {
    if (s.size() <= max)
        return s.size();
    std::size_t n = max;
    // s[n] is the first byte left out: while it continues a sequence, the
    // cut would split that sequence.
    while (n > 0 && is_continuation(static_cast<unsigned char>(s[n])))
        --n;
    return n;
}

std::size_t utf8_suffix_start(std::string_view s, std::size_t max) noexcept {
    if (s.size() <= max)
        return 0;
    std::size_t start = s.size() - max;
    while (start < s.size() && is_continuation(static_cast<unsigned char>(s[start])))
        ++start;
    return start;
}

}  // namespace ktstr
