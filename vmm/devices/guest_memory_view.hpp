// The guest RAM a device may touch, as host memory.
//
// Every address a guest hands a device (descriptor tables, rings, buffers)
// goes through translate(), which checks the start AND the length of the
// range against one RAM region, with no arithmetic that can wrap. A device
// never sees a raw host pointer any other way.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::devices {

// One RAM range: the guest sees `host` at guest-physical `guest_phys`.
struct GuestRamRegion {
    std::uint64_t guest_phys = 0;
    mutable_byte_view host;
};

class GuestMemoryView {
public:
    GuestMemoryView() = default;

    // The VMM passes its RAM mappings. The host memory must outlive the view
    // and every device holding it. Throws std::invalid_argument when a
    // region wraps past 2^64 or overlaps another.
    explicit GuestMemoryView(std::vector<GuestRamRegion> regions);

    // Host bytes for guest-physical [gpa, gpa + len) when the whole range
    // lies inside one region; nullopt otherwise (including a range whose end
    // passes 2^64). A range straddling two regions is refused even if they
    // are adjacent: no device buffer legitimately crosses a RAM boundary.
    std::optional<mutable_byte_view> translate(std::uint64_t gpa, std::uint64_t len) const noexcept;

    const std::vector<GuestRamRegion>& regions() const noexcept { return regions_; }

private:
    std::vector<GuestRamRegion> regions_;  // sorted by guest_phys
};

}  // namespace ktstr::vmm::devices
