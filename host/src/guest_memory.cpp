#include "ktstr/host/guest_memory.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>
#include <stdexcept>
#include <string>

#include "ktstr/common/hex.hpp"

namespace ktstr::host {
namespace {

// Words are stored little-endian in guest memory; the hosts this runs on
// (x86_64, aarch64) are little-endian too, so an aligned atomic access is
// the whole conversion.
static_assert(std::endian::native == std::endian::little, "GuestMemory assumes a little-endian host");

template <typename T>
T load_word(const std::uint8_t* p) noexcept {
    if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0)
        return __atomic_load_n(reinterpret_cast<const T*>(p), __ATOMIC_ACQUIRE);
    T v = 0;
    const auto* vp = reinterpret_cast<const volatile std::uint8_t*>(p);
    for (std::size_t i = 0; i < sizeof(T); ++i)
        v = static_cast<T>(v | static_cast<T>(static_cast<T>(vp[i]) << (8 * i)));
    std::atomic_thread_fence(std::memory_order_acquire);
    return v;
}

template <typename T>
void store_word(std::uint8_t* p, T v) noexcept {
    if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0) {
        __atomic_store_n(reinterpret_cast<T*>(p), v, __ATOMIC_RELEASE);
        return;
    }
    std::atomic_thread_fence(std::memory_order_release);
    auto* vp = reinterpret_cast<volatile std::uint8_t*>(p);
    for (std::size_t i = 0; i < sizeof(T); ++i)
        vp[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

GuestMemory::GuestMemory(std::vector<GuestMemoryRegion> regions) : regions_(std::move(regions)) {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (const auto& r : regions_) {
        if (r.host == nullptr)
            throw std::invalid_argument("guest memory region at " + to_hex(r.guest_phys) + " has no host mapping");
        if (r.size == 0)
            throw std::invalid_argument("guest memory region at " + to_hex(r.guest_phys) + " is empty");
        // The last byte must be addressable: guest_phys + size - 1 <= 2^64 - 1.
        if (r.size - 1 > max - r.guest_phys)
            throw std::invalid_argument("guest memory region at " + to_hex(r.guest_phys) + " of " + to_hex(r.size) +
                                        " bytes wraps past 2^64");
        if (r.size - 1 > std::numeric_limits<std::uintptr_t>::max() - reinterpret_cast<std::uintptr_t>(r.host))
            throw std::invalid_argument("guest memory region at " + to_hex(r.guest_phys) +
                                        " wraps the host address space");
    }
    std::sort(regions_.begin(), regions_.end(),
              [](const auto& a, const auto& b) { return a.guest_phys < b.guest_phys; });
    for (std::size_t i = 1; i < regions_.size(); ++i) {
        const auto& prev = regions_[i - 1];
        // prev's last byte is prev.guest_phys + prev.size - 1 (no wrap, checked above).
        if (regions_[i].guest_phys - prev.guest_phys < prev.size)
            throw std::invalid_argument("guest memory regions at " + to_hex(prev.guest_phys) + " and " +
                                        to_hex(regions_[i].guest_phys) + " overlap");
    }
}

std::uint8_t* GuestMemory::translate(std::uint64_t gpa, std::uint64_t len) const noexcept {
    if (len == 0)
        return nullptr;
    // The last region starting at or below gpa is the only candidate.
    auto it = std::upper_bound(regions_.begin(), regions_.end(), gpa,
                               [](std::uint64_t a, const GuestMemoryRegion& r) { return a < r.guest_phys; });
    if (it == regions_.begin())
        return nullptr;
    const auto& r = *std::prev(it);
    const std::uint64_t offset = gpa - r.guest_phys;  // gpa >= guest_phys here
    if (offset >= r.size || len > r.size - offset)
        return nullptr;
    return r.host + offset;
}

std::optional<SharedRegion> GuestMemory::region(std::uint64_t gpa, std::uint64_t len) const noexcept {
    if (len > std::numeric_limits<std::size_t>::max())
        return std::nullopt;
    auto* p = translate(gpa, len);
    if (p == nullptr)
        return std::nullopt;
    return SharedRegion(p, static_cast<std::size_t>(len));
}

bool GuestMemory::contains(std::uint64_t gpa, std::uint64_t len) const noexcept {
    return translate(gpa, len) != nullptr;
}

std::optional<std::uint8_t> GuestMemory::read_u8(std::uint64_t gpa) const noexcept {
    auto* p = translate(gpa, 1);
    if (p == nullptr)
        return std::nullopt;
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

std::optional<std::uint32_t> GuestMemory::read_u32(std::uint64_t gpa) const noexcept {
    auto* p = translate(gpa, 4);
    if (p == nullptr)
        return std::nullopt;
    return load_word<std::uint32_t>(p);
}

std::optional<std::uint64_t> GuestMemory::read_u64(std::uint64_t gpa) const noexcept {
    auto* p = translate(gpa, 8);
    if (p == nullptr)
        return std::nullopt;
    return load_word<std::uint64_t>(p);
}

bool GuestMemory::write_u8(std::uint64_t gpa, std::uint8_t value) const noexcept {
    auto* p = translate(gpa, 1);
    if (p == nullptr)
        return false;
    __atomic_store_n(p, value, __ATOMIC_RELEASE);
    return true;
}

bool GuestMemory::write_u32(std::uint64_t gpa, std::uint32_t value) const noexcept {
    auto* p = translate(gpa, 4);
    if (p == nullptr)
        return false;
    store_word(p, value);
    return true;
}

bool GuestMemory::write_u64(std::uint64_t gpa, std::uint64_t value) const noexcept {
    auto* p = translate(gpa, 8);
    if (p == nullptr)
        return false;
    store_word(p, value);
    return true;
}

bool GuestMemory::read(std::uint64_t gpa, mutable_byte_view out) const noexcept {
    auto* p = translate(gpa, out.size());
    if (p == nullptr)
        return false;
    copy_from_shared(SharedRegion(p, out.size()), out);
    return true;
}

bool GuestMemory::write(std::uint64_t gpa, byte_view in) const noexcept {
    auto* p = translate(gpa, in.size());
    if (p == nullptr)
        return false;
    auto* dst = reinterpret_cast<volatile std::uint8_t*>(p);
    for (std::size_t i = 0; i < in.size(); ++i)
        dst[i] = in[i];
    return true;
}

void copy_from_shared(SharedRegion src, mutable_byte_view dst) noexcept {
    const auto n = std::min(src.size(), dst.size());
    const auto* s = reinterpret_cast<const volatile std::uint8_t*>(src.data());
    for (std::size_t i = 0; i < n; ++i)
        dst[i] = s[i];
}

}  // namespace ktstr::host
