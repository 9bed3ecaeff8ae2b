// The BIOS E820 memory map the kernel reads from boot_params.
//
// Built from the arch-neutral MemoryMap: each RAM range becomes usable
// memory, except the legacy BIOS window [0x9_FC00, 1 MiB) inside the first
// range (EBDA, VGA hole, the ACPI tables), which is reserved, as are KVM's
// private pages in the MMIO hole. The SHM region gets no entry at all: it is
// a gap, so the kernel neither uses it as RAM nor marks it busy, and the
// guest can map it through /dev/mem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64 {

enum class E820Type : std::uint32_t {
    ram = 1,
    reserved = 2,
    acpi = 3,  // ACPI reclaimable
    nvs = 4,
    unusable = 5,
};

struct E820Entry {
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    E820Type type = E820Type::ram;

    std::uint64_t end() const noexcept { return addr + size; }  // exclusive
    friend bool operator==(const E820Entry&, const E820Entry&) = default;
};

// boot_params.e820_table holds this many (E820_MAX_ENTRIES_ZEROPAGE).
inline constexpr std::size_t e820_max_entries = 128;

// Entries sorted by address, non-overlapping, none touching map.shm.
// Throws LayoutError (layout.hpp) when the map breaks the x86_64 layout:
// the first RAM range not covering [0, 1 MiB), a RAM range over the legacy
// window, the KVM pages or the SHM region, or more than e820_max_entries.
std::vector<E820Entry> build_e820(const MemoryMap& map);

}  // namespace ktstr::vmm::x86_64
