// Access to memory another agent writes at the same time: guest memory as
// the host sees it, /dev/mem as the guest sees it. The one place that says
// how such memory is touched (the SHM ring and GuestMemory both use it):
//
//  - Naturally aligned words go through atomics: acquire on load, release
//    on store, so whatever the other side wrote before publishing a word is
//    visible once the word is. An atomic also cannot tear.
//  - Anything else (unaligned words, byte ranges) goes through volatile
//    byte accesses: the compiler may not cache, merge, elide or invent them,
//    so a value the other side changes mid-copy is read as it was, never
//    "assumed" from an earlier read. Unaligned words add a fence on the same
//    side as the atomic would have ordered.
//
// Words are little-endian in shared memory; so are the only hosts this runs
// on (x86_64, aarch64), so the aligned atomic access is the whole
// conversion.
#pragma once

#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "ktstr/common/bytes.hpp"

namespace ktstr::shared {

static_assert(std::endian::native == std::endian::little, "shared memory access assumes a little-endian host");

template <typename T>
concept Word = std::unsigned_integral<T> && (sizeof(T) <= 8);

// The little-endian word at `p`.
template <Word T>
T load_acquire(const std::uint8_t* p) noexcept {
    if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0)
        return __atomic_load_n(reinterpret_cast<const T*>(p), __ATOMIC_ACQUIRE);
    T v = 0;
    const auto* vp = reinterpret_cast<const volatile std::uint8_t*>(p);
    for (std::size_t i = 0; i < sizeof(T); ++i)
        v = static_cast<T>(v | static_cast<T>(static_cast<T>(vp[i]) << (8 * i)));
    std::atomic_thread_fence(std::memory_order_acquire);
    return v;
}

// Stores `v` little-endian at `p`.
template <Word T>
void store_release(std::uint8_t* p, T v) noexcept {
    if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0) {
        __atomic_store_n(reinterpret_cast<T*>(p), v, __ATOMIC_RELEASE);
        return;
    }
    std::atomic_thread_fence(std::memory_order_release);
    auto* vp = reinterpret_cast<volatile std::uint8_t*>(p);
    for (std::size_t i = 0; i < sizeof(T); ++i)
        vp[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Copies out.size() bytes from shared memory at `src` into `out`.
inline void copy_from(const std::uint8_t* src, mutable_byte_view out) noexcept {
    const auto* s = reinterpret_cast<const volatile std::uint8_t*>(src);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = s[i];
}

// Copies `in` into shared memory at `dst`.
inline void copy_to(std::uint8_t* dst, byte_view in) noexcept {
    auto* d = reinterpret_cast<volatile std::uint8_t*>(dst);
    for (std::size_t i = 0; i < in.size(); ++i)
        d[i] = in[i];
}

}  // namespace ktstr::shared
