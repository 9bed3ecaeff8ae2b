// CRC-32 by PCLMULQDQ folding: four 128-bit accumulators each move 512
// bits forward per 64-byte step, then fold into one, absorb the remaining
// 16-byte blocks, and reduce (Barrett) to the CRC; the last 0..15 bytes go
// through slicing-by-8. The technique and every constant are explained in
// crc32_clmul_fold.hpp.
//
// This file is compiled with -mpclmul -msse4.1, so the compiler may use
// those instructions anywhere in it: nothing here may run before
// has_pclmul() said yes (the CPU check itself is plain integer code).
#include "ktstr/common/crc32.hpp"

#if defined(__x86_64__) && defined(__PCLMUL__) && defined(__SSE4_1__)

#include <cpuid.h>

#include "crc32_clmul_fold.hpp"

namespace ktstr::crc32_impl {

bool has_pclmul() noexcept {
    static const bool yes = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d))
            return false;
        return (c & bit_PCLMUL) != 0 && (c & bit_SSE4_1) != 0;
    }();
    return yes;
}

std::uint32_t pclmul(std::uint32_t crc, byte_view data) noexcept {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    if (n < 16)
        return slicing_by_8(crc, data);

    // The CRC register XORed into the first 32 message bits continues the
    // CRC from that state with a zero register.
    const __m128i first = _mm_xor_si128(load_128(p), _mm_cvtsi32_si128(static_cast<int>(~crc)));
    __m128i acc;
    if (n >= 64) {
        __m128i a0 = first, a1 = load_128(p + 16), a2 = load_128(p + 32), a3 = load_128(p + 48);
        p += 64;
        n -= 64;
        const __m128i k512 = fold_pair<512>();
        while (n >= 64) {
            a0 = fold_128(a0, k512, load_128(p));
            a1 = fold_128(a1, k512, load_128(p + 16));
            a2 = fold_128(a2, k512, load_128(p + 32));
            a3 = fold_128(a3, k512, load_128(p + 48));
            p += 64;
            n -= 64;
        }
        // Each accumulator moves to the last one's position in parallel.
        const __m128i zero = _mm_setzero_si128();
        acc = _mm_xor_si128(_mm_xor_si128(fold_128(a0, fold_pair<384>(), zero), fold_128(a1, fold_pair<256>(), zero)),
                            fold_128(a2, fold_pair<128>(), a3));
    } else {
        acc = first;
        p += 16;
        n -= 16;
    }
    return finish_128(acc, p, n);
}

}  // namespace ktstr::crc32_impl

#else  // no PCLMULQDQ build: never dispatched to

namespace ktstr::crc32_impl {
bool has_pclmul() noexcept { return false; }
// Unreachable through crc32(); a correct answer all the same.
std::uint32_t pclmul(std::uint32_t crc, byte_view data) noexcept { return slicing_by_8(crc, data); }
}  // namespace ktstr::crc32_impl

#endif
