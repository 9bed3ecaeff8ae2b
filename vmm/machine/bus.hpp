// Dispatch of guest accesses that exit to user space: one Bus for port I/O
// and one for MMIO, each a sorted set of address ranges with the handlers
// of the device behind each.
//
// Devices are added before the vCPUs start and never after, so lookups
// take no lock; each device guards its own state (several vCPUs may call
// it at once). An access must lie wholly inside one range; anything else
// is unclaimed and the caller answers it (reads of all-ones, writes
// ignored).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "memory/memory_map.hpp"

namespace ktstr::vmm::machine {

struct BusDevice {
    std::string name;
    // `offset` is from the start of the device's range; data.size() is the
    // access width (port I/O: 1, 2 or 4; MMIO: 1 to 8).
    std::function<void(std::uint64_t offset, mutable_byte_view data)> read;
    std::function<void(std::uint64_t offset, byte_view data)> write;
};

class Bus {
public:
    // Throws std::invalid_argument for an empty range or one that overlaps
    // a range already added.
    void add(GuestRange range, BusDevice device);

    // true when a device took the access.
    bool read(std::uint64_t address, mutable_byte_view data) const;
    bool write(std::uint64_t address, byte_view data) const;

private:
    struct Entry {
        GuestRange range;
        BusDevice device;
    };
    const Entry* find(std::uint64_t address, std::uint64_t size) const noexcept;

    std::vector<Entry> entries_;  // sorted by range.start
};

}  // namespace ktstr::vmm::machine
