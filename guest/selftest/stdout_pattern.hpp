// The deterministic byte stream of --stdout-bytes: byte i is '\n' when
// i % 64 == 63, otherwise 'a' + i % 26. Printable, line-structured (so a
// console echo stays readable) and cheap to regenerate on the host.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ktstr::selftest {

constexpr char pattern_byte(std::uint64_t i) noexcept {
    return i % 64 == 63 ? '\n' : static_cast<char>('a' + i % 26);
}

// The pattern repeats every lcm(64, 26) bytes.
inline constexpr std::size_t pattern_period = 832;

// Fills `out` with the pattern starting at stream offset `offset`.
inline void fill_pattern(std::uint64_t offset, std::span<char> out) noexcept {
    for (std::size_t k = 0; k < out.size(); ++k)
        out[k] = pattern_byte(offset + k);
}

// Pieces of the pattern of up to `max_piece` bytes without generating them
// again: one period more than a piece, generated once. In a guest whose code
// is emulated, per-byte generation would bound the throughput measured.
class PatternPieces {
public:
    explicit PatternPieces(std::size_t max_piece) : bytes_(max_piece + pattern_period) {
        fill_pattern(0, bytes_);
    }
    // The `n` (at most max_piece) bytes at stream offset `offset`.
    std::span<const char> at(std::uint64_t offset, std::size_t n) const noexcept {
        return std::span<const char>(bytes_).subspan(offset % pattern_period, n);
    }

private:
    std::vector<char> bytes_;
};

}  // namespace ktstr::selftest
