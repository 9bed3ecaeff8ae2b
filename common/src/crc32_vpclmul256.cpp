// CRC-32 by VPCLMULQDQ folding on 256-bit vectors, for CPUs that have
// VPCLMULQDQ and AVX2 but not AVX-512 (AMD Zen 3: the 512-bit kernel
// cannot run there, and the 128-bit one leaves half of each multiplier
// idle). Each vector is two independent 128-bit accumulators, and four
// vectors (128 bytes) move 1024 bits forward per step. Then the vectors
// fold into one, it absorbs the remaining 32-byte blocks, its two lanes
// fold into one 128-bit accumulator and the rest is as in the PCLMULQDQ
// kernel. Inputs shorter than 128 bytes go to the PCLMULQDQ kernel.
// Constants and technique: crc32_clmul_fold.hpp.
//
// Compiled with AVX2 enabled: nothing here may run before
// has_vpclmul256() said yes (the CPU check itself is plain integer code).
#include "ktstr/common/crc32.hpp"

#if defined(__x86_64__) && defined(__VPCLMULQDQ__) && defined(__AVX2__) && defined(__PCLMUL__) && \
    defined(__SSE4_1__)

#include <cpuid.h>

#include "crc32_clmul_fold.hpp"

namespace ktstr::crc32_impl {
namespace {

// XCR0 bits the OS must have enabled for YMM state: SSE and AVX.
constexpr std::uint64_t xcr0_ymm_state = (1u << 1) | (1u << 2);

bool detect() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return false;
    if (!(c & bit_PCLMUL) || !(c & bit_SSE4_1) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
        return false;
    if ((read_xcr0() & xcr0_ymm_state) != xcr0_ymm_state)
        return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    return (b & bit_AVX2) != 0 && (c & bit_VPCLMULQDQ) != 0;
}

inline __m256i load_256(const std::uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// Each 128-bit lane of acc moved forward by the distance `k` was made for,
// plus the next 32 bytes.
inline __m256i fold_256(__m256i acc, __m256i k, __m256i next) {
    return _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(acc, k, 0x00),
                                             _mm256_clmulepi64_epi128(acc, k, 0x11)),
                            next);
}

// fold_pair<Bits>() in both lanes.
template <unsigned Bits>
inline __m256i fold_pair_256() {
    constexpr auto h = static_cast<long long>(fold_k(Bits + 64));
    constexpr auto l = static_cast<long long>(fold_k(Bits));
    return _mm256_set_epi64x(l, h, l, h);
}

}  // namespace

bool has_vpclmul256() noexcept {
    static const bool yes = detect();
    return yes;
}

std::uint32_t vpclmul256(std::uint32_t crc, byte_view data) noexcept {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    if (n < 128)
        return pclmul(crc, data);

    __m256i y0 = _mm256_xor_si256(load_256(p), _mm256_set_epi32(0, 0, 0, 0, 0, 0, 0, static_cast<int>(~crc)));
    __m256i y1 = load_256(p + 32), y2 = load_256(p + 64), y3 = load_256(p + 96);
    p += 128;
    n -= 128;
    const __m256i k1024 = fold_pair_256<1024>();
    while (n >= 128) {
        y0 = fold_256(y0, k1024, load_256(p));
        y1 = fold_256(y1, k1024, load_256(p + 32));
        y2 = fold_256(y2, k1024, load_256(p + 64));
        y3 = fold_256(y3, k1024, load_256(p + 96));
        p += 128;
        n -= 128;
    }
    const __m256i zero = _mm256_setzero_si256();
    __m256i y = _mm256_xor_si256(_mm256_xor_si256(fold_256(y0, fold_pair_256<768>(), zero),
                                                  fold_256(y1, fold_pair_256<512>(), zero)),
                                 fold_256(y2, fold_pair_256<256>(), y3));
    const __m256i k256 = fold_pair_256<256>();
    while (n >= 32) {
        y = fold_256(y, k256, load_256(p));
        p += 32;
        n -= 32;
    }

    // Lane 0 sits 128 bits before lane 1; through memory once, as in the
    // 512-bit kernel (GCC 12's extract intrinsics trip its own warnings).
    alignas(32) std::uint8_t lanes[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), y);
    __m128i acc = fold_128(load_128(lanes), fold_pair<128>(), load_128(lanes + 16));
    return finish_128(acc, p, n);
}

}  // namespace ktstr::crc32_impl

#else  // no VPCLMULQDQ/AVX2 build: never dispatched to

namespace ktstr::crc32_impl {
bool has_vpclmul256() noexcept { return false; }
// Unreachable through crc32(); a correct answer all the same.
std::uint32_t vpclmul256(std::uint32_t crc, byte_view data) noexcept { return slicing_by_8(crc, data); }
}  // namespace ktstr::crc32_impl

#endif
