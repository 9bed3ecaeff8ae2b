// build_e820: the arch-neutral RAM list plus x86's firmware reservations.
#include "arch/x86_64/e820.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64 {
namespace {

const GuestRange legacy_window{ebda_start, high_memory_start - ebda_start};
const GuestRange kvm_private{kvm_identity_map_address, kvm_private_size};

void check_map(const MemoryMap& map) {
    if (map.ram.empty() || map.ram.front().start != 0 || map.ram.front().end() < high_memory_start)
        throw LayoutError("memory map: the first RAM range must cover [0, 1 MiB) (boot structures, ACPI tables)");
    for (std::size_t i = 0; i < map.ram.size(); ++i) {
        const GuestRange& r = map.ram[i];
        if (r.size == 0)
            throw LayoutError(fmt::format("memory map: empty RAM range at {:#x}", r.start));
        if (i > 0 && r.start < map.ram[i - 1].end())
            throw LayoutError(fmt::format("memory map: RAM ranges at {:#x} and {:#x} are unsorted or overlap",
                                          map.ram[i - 1].start, r.start));
        if (i > 0 && r.overlaps(legacy_window))
            throw LayoutError(fmt::format("memory map: RAM range at {:#x} overlaps the legacy BIOS window", r.start));
        if (r.overlaps(kvm_private))
            throw LayoutError(fmt::format("memory map: RAM range at {:#x} overlaps KVM's TSS pages", r.start));
        if (r.overlaps(map.shm))
            throw LayoutError(fmt::format("memory map: RAM range at {:#x} overlaps the SHM region", r.start));
    }
}

}  // namespace

std::vector<E820Entry> build_e820(const MemoryMap& map) {
    check_map(map);
    std::vector<E820Entry> e820;
    const GuestRange& first = map.ram.front();
    e820.push_back({0, legacy_window.start, E820Type::ram});
    e820.push_back({legacy_window.start, legacy_window.size, E820Type::reserved});
    if (first.end() > high_memory_start)
        e820.push_back({high_memory_start, first.end() - high_memory_start, E820Type::ram});
    for (std::size_t i = 1; i < map.ram.size(); ++i)
        e820.push_back({map.ram[i].start, map.ram[i].size, E820Type::ram});
    e820.push_back({kvm_private.start, kvm_private.size, E820Type::reserved});

    std::sort(e820.begin(), e820.end(), [](const E820Entry& a, const E820Entry& b) { return a.addr < b.addr; });
    if (e820.size() > e820_max_entries)
        throw LayoutError(fmt::format("memory map needs {} E820 entries; boot_params holds {}", e820.size(),
                                      e820_max_entries));
    return e820;
}

}  // namespace ktstr::vmm::x86_64
