#include "machine/bus.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::machine {

void Bus::add(GuestRange range, BusDevice device) {
    if (range.size == 0 || range.end() < range.start)
        throw std::invalid_argument(fmt::format("bus: device {} has an empty or wrapping range", device.name));
    for (const auto& e : entries_)
        if (e.range.overlaps(range))
            throw std::invalid_argument(fmt::format("bus: device {} at {:#x} overlaps {} at {:#x}", device.name,
                                                    range.start, e.device.name, e.range.start));
    auto pos = std::lower_bound(entries_.begin(), entries_.end(), range.start,
                                [](const Entry& e, std::uint64_t start) { return e.range.start < start; });
    entries_.insert(pos, Entry{range, std::move(device)});
}

const Bus::Entry* Bus::find(std::uint64_t address, std::uint64_t size) const noexcept {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), address,
                               [](std::uint64_t a, const Entry& e) { return a < e.range.start; });
    if (it == entries_.begin())
        return nullptr;
    const Entry& e = *std::prev(it);
    if (!e.range.contains(address) || size > e.range.end() - address)
        return nullptr;
    return &e;
}

bool Bus::read(std::uint64_t address, mutable_byte_view data) const {
    const Entry* e = find(address, data.size());
    if (e == nullptr || !e->device.read)
        return false;
    e->device.read(address - e->range.start, data);
    return true;
}

bool Bus::write(std::uint64_t address, byte_view data) const {
    const Entry* e = find(address, data.size());
    if (e == nullptr || !e->device.write)
        return false;
    e->device.write(address - e->range.start, data);
    return true;
}

}  // namespace ktstr::vmm::machine
