#include "devices/guest_memory_view.hpp"

#include <algorithm>
#include <stdexcept>

namespace ktstr::vmm::devices {

GuestMemoryView::GuestMemoryView(std::vector<GuestRamRegion> regions) : regions_(std::move(regions)) {
    std::sort(regions_.begin(), regions_.end(),
              [](const GuestRamRegion& a, const GuestRamRegion& b) { return a.guest_phys < b.guest_phys; });
    for (std::size_t i = 0; i < regions_.size(); ++i) {
        const auto& r = regions_[i];
        if (!r.host.empty() && r.host.size() - 1 > UINT64_MAX - r.guest_phys)
            throw std::invalid_argument("guest RAM region wraps past the end of the address space");
        if (i > 0) {
            const auto& prev = regions_[i - 1];
            if (!prev.host.empty() && r.guest_phys - prev.guest_phys < prev.host.size())
                throw std::invalid_argument("guest RAM regions overlap");
        }
    }
}

std::optional<mutable_byte_view> GuestMemoryView::translate(std::uint64_t gpa, std::uint64_t len) const noexcept {
    // Last region starting at or below gpa: the only one that can hold it.
    auto it = std::upper_bound(regions_.begin(), regions_.end(), gpa,
                               [](std::uint64_t a, const GuestRamRegion& r) { return a < r.guest_phys; });
    if (it == regions_.begin())
        return std::nullopt;
    const auto& r = *std::prev(it);
    const std::uint64_t offset = gpa - r.guest_phys;
    const std::uint64_t size = r.host.size();
    if (offset > size || len > size - offset)
        return std::nullopt;
    return r.host.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(len));
}

}  // namespace ktstr::vmm::devices
