// CRC-32 by VPCLMULQDQ folding on 512-bit vectors: each vector is four
// independent 128-bit accumulators, and four vectors (256 bytes) move 2048
// bits forward per step. Then the vectors fold into one, it absorbs the
// remaining 64-byte blocks, its four lanes fold into one 128-bit
// accumulator and the rest is as in the PCLMULQDQ kernel (16-byte blocks,
// Barrett reduction, slicing-by-8 for the last bytes). Inputs shorter than
// 256 bytes go to the PCLMULQDQ kernel, which has less to set up. Constants
// and technique: crc32_clmul_fold.hpp.
//
// Compiled with AVX-512 enabled, so the compiler may use AVX-512 anywhere
// in this file: nothing here may run before has_vpclmul() said yes (the
// CPU check itself is plain integer code).
#include "ktstr/common/crc32.hpp"

#if defined(__x86_64__) && defined(__VPCLMULQDQ__) && defined(__AVX512F__) && defined(__AVX512VL__) && \
    defined(__AVX512BW__) && defined(__PCLMUL__) && defined(__SSE4_1__)

#include <cpuid.h>

#include "crc32_clmul_fold.hpp"

namespace ktstr::crc32_impl {
namespace {

// XCR0 bits the OS must have enabled for ZMM state: SSE, AVX, opmask,
// upper halves of ZMM0-15, ZMM16-31.
constexpr std::uint64_t xcr0_zmm_state = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);

bool detect() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return false;
    if (!(c & bit_PCLMUL) || !(c & bit_SSE4_1) || !(c & bit_OSXSAVE))
        return false;
    if ((read_xcr0() & xcr0_zmm_state) != xcr0_zmm_state)
        return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    const unsigned avx512 = bit_AVX512F | bit_AVX512VL | bit_AVX512BW;
    return (b & avx512) == avx512 && (c & bit_VPCLMULQDQ) != 0;
}

inline __m512i load_512(const std::uint8_t* p) { return _mm512_loadu_si512(p); }

// Each 128-bit lane of acc moved forward by the distance `k` was made for,
// plus the next 64 bytes (0x96: three-way XOR).
inline __m512i fold_512(__m512i acc, __m512i k, __m512i next) {
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(acc, k, 0x00), _mm512_clmulepi64_epi128(acc, k, 0x11),
                                     next, 0x96);
}

// fold_pair<Bits>() in all four lanes. (Built with set rather than a
// broadcast or extract intrinsic: GCC 12's versions of those trip its own
// -Wmaybe-uninitialized.)
template <unsigned Bits>
inline __m512i fold_pair_512() {
    constexpr auto h = static_cast<long long>(fold_k(Bits + 64));
    constexpr auto l = static_cast<long long>(fold_k(Bits));
    return _mm512_set_epi64(l, h, l, h, l, h, l, h);
}

}  // namespace

bool has_vpclmul() noexcept {
    static const bool yes = detect();
    return yes;
}

std::uint32_t vpclmul(std::uint32_t crc, byte_view data) noexcept {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    if (n < 256)
        return pclmul(crc, data);

    __m512i z0 = _mm512_xor_si512(load_512(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(~crc))));
    __m512i z1 = load_512(p + 64), z2 = load_512(p + 128), z3 = load_512(p + 192);
    p += 256;
    n -= 256;
    const __m512i k2048 = fold_pair_512<2048>();
    while (n >= 256) {
        z0 = fold_512(z0, k2048, load_512(p));
        z1 = fold_512(z1, k2048, load_512(p + 64));
        z2 = fold_512(z2, k2048, load_512(p + 128));
        z3 = fold_512(z3, k2048, load_512(p + 192));
        p += 256;
        n -= 256;
    }
    const __m512i zero = _mm512_setzero_si512();
    __m512i z = _mm512_ternarylogic_epi64(fold_512(z0, fold_pair_512<1536>(), zero),
                                          fold_512(z1, fold_pair_512<1024>(), zero),
                                          fold_512(z2, fold_pair_512<512>(), z3), 0x96);
    const __m512i k512 = fold_pair_512<512>();
    while (n >= 64) {
        z = fold_512(z, k512, load_512(p));
        p += 64;
        n -= 64;
    }

    // Lane i sits 128 * (3 - i) bits before lane 3. The lanes go through
    // memory once rather than through extract intrinsics (see above).
    alignas(64) std::uint8_t lanes[64];
    _mm512_store_si512(lanes, z);
    const __m128i zero128 = _mm_setzero_si128();
    __m128i acc = _mm_xor_si128(_mm_xor_si128(fold_128(load_128(lanes), fold_pair<384>(), zero128),
                                              fold_128(load_128(lanes + 16), fold_pair<256>(), zero128)),
                                fold_128(load_128(lanes + 32), fold_pair<128>(), load_128(lanes + 48)));
    return finish_128(acc, p, n);
}

}  // namespace ktstr::crc32_impl

#else  // no VPCLMULQDQ/AVX-512 build: never dispatched to

namespace ktstr::crc32_impl {
bool has_vpclmul() noexcept { return false; }
// Unreachable through crc32(); a correct answer all the same.
std::uint32_t vpclmul(std::uint32_t crc, byte_view data) noexcept { return slicing_by_8(crc, data); }
}  // namespace ktstr::crc32_impl

#endif
