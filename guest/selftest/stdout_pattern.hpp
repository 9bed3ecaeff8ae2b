// The deterministic byte stream of --stdout-bytes: byte i is '\n' when
// i % 64 == 63, otherwise 'a' + i % 26. Printable, line-structured (so a
// console echo stays readable) and cheap to regenerate on the host.
#pragma once

#include <cstdint>
#include <span>

namespace ktstr::selftest {

constexpr char pattern_byte(std::uint64_t i) noexcept {
    return i % 64 == 63 ? '\n' : static_cast<char>('a' + i % 26);
}

// Fills `out` with the pattern starting at stream offset `offset`.
inline void fill_pattern(std::uint64_t offset, std::span<char> out) noexcept {
    for (std::size_t k = 0; k < out.size(); ++k)
        out[k] = pattern_byte(offset + k);
}

}  // namespace ktstr::selftest
