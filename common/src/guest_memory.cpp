#include "ktstr/common/guest_memory.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "ktstr/common/hex.hpp"
#include "ktstr/common/shared_access.hpp"

namespace ktstr {

GuestMemory::GuestMemory(std::vector<GuestMemoryRegion> regions) : regions_(std::move(regions)) {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (const auto& r : regions_) {
        if (r.host.data() == nullptr || r.host.empty())
            throw std::invalid_argument("guest memory region at " + to_hex(r.guest_phys) + " has no host bytes");
        const std::uint64_t size = r.host.size();
        // The last byte must be addressable: guest_phys + size - 1 <= 2^64 - 1.
        if (size - 1 > max - r.guest_phys)
            throw std::invalid_argument("guest memory region at " + to_hex(r.guest_phys) + " of " + to_hex(size) +
                                        " bytes wraps past 2^64");
        if (size - 1 > std::numeric_limits<std::uintptr_t>::max() - reinterpret_cast<std::uintptr_t>(r.host.data()))
            throw std::invalid_argument("guest memory region at " + to_hex(r.guest_phys) +
                                        " wraps the host address space");
    }
    std::sort(regions_.begin(), regions_.end(),
              [](const auto& a, const auto& b) { return a.guest_phys < b.guest_phys; });
    for (std::size_t i = 1; i < regions_.size(); ++i) {
        const auto& prev = regions_[i - 1];
        // prev's last byte is prev.guest_phys + size - 1 (no wrap, checked above).
        if (regions_[i].guest_phys - prev.guest_phys < prev.host.size())
            throw std::invalid_argument("guest memory regions at " + to_hex(prev.guest_phys) + " and " +
                                        to_hex(regions_[i].guest_phys) + " overlap");
    }
}

std::optional<mutable_byte_view> GuestMemory::translate(std::uint64_t gpa, std::uint64_t len) const noexcept {
    // The last region starting at or below gpa is the only candidate.
    auto it = std::upper_bound(regions_.begin(), regions_.end(), gpa,
                               [](std::uint64_t a, const GuestMemoryRegion& r) { return a < r.guest_phys; });
    if (it == regions_.begin())
        return std::nullopt;
    const auto& r = *std::prev(it);
    const std::uint64_t offset = gpa - r.guest_phys;  // gpa >= guest_phys here
    const std::uint64_t size = r.host.size();
    if (offset > size || len > size - offset)
        return std::nullopt;
    return r.host.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(len));
}

std::uint8_t* GuestMemory::shared_bytes(std::uint64_t gpa, std::uint64_t len) const noexcept {
    if (len == 0)
        return nullptr;
    auto bytes = translate(gpa, len);
    return bytes ? bytes->data() : nullptr;
}

std::optional<SharedRegion> GuestMemory::region(std::uint64_t gpa, std::uint64_t len) const noexcept {
    auto* p = shared_bytes(gpa, len);
    if (p == nullptr)
        return std::nullopt;
    return SharedRegion(p, static_cast<std::size_t>(len));
}

bool GuestMemory::contains(std::uint64_t gpa, std::uint64_t len) const noexcept {
    return shared_bytes(gpa, len) != nullptr;
}

template <typename T>
std::optional<T> GuestMemory::load(std::uint64_t gpa) const noexcept {
    auto* p = shared_bytes(gpa, sizeof(T));
    if (p == nullptr)
        return std::nullopt;
    return shared::load_acquire<T>(p);
}

template <typename T>
bool GuestMemory::store(std::uint64_t gpa, T value) const noexcept {
    auto* p = shared_bytes(gpa, sizeof(T));
    if (p == nullptr)
        return false;
    shared::store_release(p, value);
    return true;
}

std::optional<std::uint8_t> GuestMemory::read_u8(std::uint64_t gpa) const noexcept { return load<std::uint8_t>(gpa); }
std::optional<std::uint32_t> GuestMemory::read_u32(std::uint64_t gpa) const noexcept {
    return load<std::uint32_t>(gpa);
}
std::optional<std::uint64_t> GuestMemory::read_u64(std::uint64_t gpa) const noexcept {
    return load<std::uint64_t>(gpa);
}
bool GuestMemory::write_u8(std::uint64_t gpa, std::uint8_t value) const noexcept { return store(gpa, value); }
bool GuestMemory::write_u32(std::uint64_t gpa, std::uint32_t value) const noexcept { return store(gpa, value); }
bool GuestMemory::write_u64(std::uint64_t gpa, std::uint64_t value) const noexcept { return store(gpa, value); }

bool GuestMemory::read(std::uint64_t gpa, mutable_byte_view out) const noexcept {
    auto* p = shared_bytes(gpa, out.size());
    if (p == nullptr)
        return false;
    shared::copy_from(p, out);
    return true;
}

bool GuestMemory::write(std::uint64_t gpa, byte_view in) const noexcept {
    auto* p = shared_bytes(gpa, in.size());
    if (p == nullptr)
        return false;
    shared::copy_to(p, in);
    return true;
}

}  // namespace ktstr
