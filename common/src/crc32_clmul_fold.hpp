// Carry-less-multiply folding for CRC-32 (reflected polynomial 0xEDB88320):
// the constants, derived here at compile time, and the 128-bit steps shared
// by the PCLMULQDQ and VPCLMULQDQ kernels. Private to those two files, which
// are compiled for their instruction sets: everything here has internal
// linkage so no copy built for AVX-512 can be picked by the linker for a
// file built for plain x86-64.
//
// Bit order. The CRC is reflected: the first message bit is bit 0 of byte 0
// and is the highest-degree coefficient. So an integer v read little-endian
// from w/8 bytes stands for the polynomial with bit i <-> x^(w-1-i); call
// that "width w". The one rule everything below rests on:
//
//   the carry-less product of a width-a and a width-b integer is the
//   width-(a+b-1) integer of the product polynomial.
//
// (bit i of one and bit j of the other give degree (a-1-i)+(b-1-j) =
// (a+b-2)-(i+j), which is what bit i+j means in width a+b-1.)
//
// Folding. An accumulator A of width 128 is the high-degree qword H (bits
// 0..63) and the low-degree qword L (bits 64..127): A = H x^64 + L. Moving
// A forward by D bits of message means replacing it with something
// congruent to A x^D mod P: H x^(D+64) + L x^D. A 64-bit lane constant k
// holding the 32-bit reflected value of x^(e-33) mod P in its low bits is,
// read as width 65 (its bit 64, the x^0 coefficient, being 0), the
// polynomial (x^(e-33) mod P) x^33, which is congruent to x^e. A width-64
// qword times that is a width-128 value congruent to qword * x^e. So the
// fold constants are fold_k(D + 64) for H and fold_k(D) for L, and the two
// products XOR straight into the next 128 message bits.
//
// Reduction. Once everything is folded into one width-128 R, the CRC
// register is R x^32 mod P (the CRC definition multiplies the message by
// x^32). Three steps, each leaving something congruent:
//  1. T = H * fold_k(128) ^ (R >> 64)             == R x^64, width 128,
//     nonzero only in bits 0..95, so T = T96 x^32 with T96 == R x^32.
//  2. T96 = U x^64 + V (U: bits 0..31, V: bits 32..95, width 64):
//     Y = U * (x^64 mod P as width 33) ^ V        == R x^32, width 64.
//  3. Barrett: with Y = Yh x^32 + Yl and mu = floor(x^64 / P) (degree 32),
//     q = floor(Yh mu / x^32) equals floor(Y / P) exactly for polynomials,
//     so Y mod P = low 32 degrees of (Y ^ q P). Width-wise: Yh (32) * mu
//     (33) is width 64 and q is its bits 0..31; q (32) * P (33) is width
//     64 whose low-degree half, bits 32..63, XORed with Yl is the CRC.
#pragma once

#include <cstddef>
#include <cstdint>

#include <immintrin.h>

#include "ktstr/common/crc32.hpp"

namespace ktstr::crc32_impl {
namespace {

inline constexpr std::uint32_t poly_reflected = 0xEDB88320u;   // P without x^32, width 32
inline constexpr std::uint64_t poly_normal = 0x104C11DB7ull;   // P, bit i <-> x^i

// x^n mod P as a width-32 reflected value: start from 1 (bit 31) and
// multiply by x n times (a right shift; x^32 wraps to P - x^32).
constexpr std::uint32_t xpow_mod(unsigned n) {
    std::uint32_t v = 0x80000000u;
    for (unsigned i = 0; i < n; ++i)
        v = (v >> 1) ^ ((v & 1u) ? poly_reflected : 0u);
    return v;
}

// Lane constant congruent to x^e for the width-64 x width-65 product (see
// the header comment).
constexpr std::uint64_t fold_k(unsigned e) { return xpow_mod(e - 33); }

constexpr std::uint64_t reflect(std::uint64_t v, unsigned width) {
    std::uint64_t r = 0;
    for (unsigned i = 0; i < width; ++i)
        if (v >> i & 1u)
            r |= std::uint64_t{1} << (width - 1 - i);
    return r;
}

// floor(x^64 / P) by long division, bit i <-> x^i. The first quotient bit
// (x^32) is always set and cancels the x^64 term, which lets the running
// remainder fit in 64 bits from then on.
constexpr std::uint64_t barrett_mu_normal() {
    std::uint64_t q = std::uint64_t{1} << 32;
    std::uint64_t r = (poly_normal ^ (std::uint64_t{1} << 32)) << 32;
    for (int i = 63; i >= 32; --i)
        if (r >> i & 1u) {
            q |= std::uint64_t{1} << (i - 32);
            r ^= poly_normal << (i - 32);
        }
    return q;
}

// Width-33 (bit i <-> x^(32-i)) values for the reduction.
inline constexpr std::uint64_t red_x64 = std::uint64_t{xpow_mod(64)} << 1;  // x^64 mod P
inline constexpr std::uint64_t red_mu = reflect(barrett_mu_normal(), 33);    // floor(x^64 / P)
inline constexpr std::uint64_t red_poly = reflect(poly_normal, 33);          // P itself

static_assert(xpow_mod(0) == 0x80000000u && xpow_mod(31) == 1u);
static_assert(xpow_mod(32) == poly_reflected, "x^32 mod P is P without its top term");
static_assert(red_poly == ((std::uint64_t{poly_reflected} << 1) | 1u));
static_assert(red_mu >> 33 == 0 && (red_mu & 1u), "mu has degree exactly 32");

// Two qwords as a vector, `lo` in bits 0..63.
inline __m128i qwords(std::uint64_t lo, std::uint64_t hi) {
    return _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
}

// The constant pair that moves a width-128 accumulator forward by Bits:
// the low lane multiplies H, the high lane L. A template so the constants
// are computed by the compiler, never at run time.
template <unsigned Bits>
inline __m128i fold_pair() {
    constexpr std::uint64_t for_h = fold_k(Bits + 64);
    constexpr std::uint64_t for_l = fold_k(Bits);
    return qwords(for_h, for_l);
}

// acc moved forward by the distance `k` was made for, plus the next block.
inline __m128i fold_128(__m128i acc, __m128i k, __m128i next) {
    const __m128i h = _mm_clmulepi64_si128(acc, k, 0x00);
    const __m128i l = _mm_clmulepi64_si128(acc, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(h, l), next);
}

inline __m128i load_128(const std::uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// The CRC register (not yet finalised) of a width-128 R: R x^32 mod P.
inline std::uint32_t reduce_128(__m128i r) {
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
    constexpr std::uint64_t x128 = fold_k(128);
    const __m128i k128 = qwords(x128, 0);
    const __m128i kx64 = qwords(red_x64, 0);
    const __m128i mu_p = qwords(red_mu, red_poly);
    // 1. T == R x^64 in bits 0..95.
    const __m128i t = _mm_xor_si128(_mm_clmulepi64_si128(r, k128, 0x00), _mm_srli_si128(r, 8));
    // 2. Y == R x^32, width 64 in the low qword.
    const __m128i y = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(t, low32), kx64, 0x00), _mm_srli_si128(t, 4));
    // 3. Barrett: q = bits 0..31 of Yh mu, then Y ^ q P, bits 32..63.
    const __m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(y, low32), mu_p, 0x00), low32);
    const __m128i qp = _mm_clmulepi64_si128(q, mu_p, 0x10);
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(_mm_xor_si128(y, qp), 4)));
}

// The end every kernel shares: `acc` (the message up to `p`) absorbs the
// remaining 16-byte blocks and is reduced to the CRC, and the last n < 16
// bytes go through slicing-by-8. Returns the finalised CRC.
inline std::uint32_t finish_128(__m128i acc, const std::uint8_t* p, std::size_t n) {
    const __m128i k128 = fold_pair<128>();
    while (n >= 16) {
        acc = fold_128(acc, k128, load_128(p));
        p += 16;
        n -= 16;
    }
    const std::uint32_t c = ~reduce_128(acc);
    return n ? slicing_by_8(c, byte_view(p, n)) : c;
}

// XCR0: which register states the OS saves (the vector kernels' CPU
// checks need YMM or ZMM state enabled, not only the CPUID bits).
inline std::uint64_t read_xcr0() noexcept {
    std::uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (std::uint64_t{hi} << 32) | lo;
}

}  // namespace
}  // namespace ktstr::crc32_impl
