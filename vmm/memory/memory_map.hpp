// The guest's physical memory map, described once for every architecture.
//
// Architecture code turns it into what the guest kernel reads: E820 and
// ACPI tables on x86_64 (vmm/arch/x86_64), a flattened device tree on
// aarch64 (vmm/arch/aarch64). The SHM region is never part of `ram`: each
// architecture keeps it out of the kernel's RAM (an E820 gap; a no-map
// reserved-memory node), so the guest can map it through /dev/mem.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::vmm {

struct GuestRange {
    std::uint64_t start = 0;
    std::uint64_t size = 0;

    std::uint64_t end() const noexcept { return start + size; }  // exclusive
    bool contains(std::uint64_t addr) const noexcept { return addr >= start && addr - start < size; }
    bool overlaps(const GuestRange& o) const noexcept {
        return size != 0 && o.size != 0 && start < o.end() && o.start < end();
    }
    friend bool operator==(const GuestRange&, const GuestRange&) = default;
};

// A virtio-mmio (or other MMIO) device window and its interrupt line
// (x86_64: IOAPIC GSI; aarch64: GIC SPI number).
struct MmioDevice {
    std::string name;  // "virtio-console"
    GuestRange window;
    std::uint32_t irq = 0;
};

struct MemoryMap {
    std::vector<GuestRange> ram;      // sorted, disjoint, RAM only
    GuestRange shm;                   // the ring region, outside every ram range
    std::vector<MmioDevice> mmio;     // virtio-mmio windows, outside RAM and SHM
    std::optional<GuestRange> initrd; // inside RAM
    std::string cmdline;              // full kernel command line, KTSTR_* included
    std::uint32_t cpus = 1;

    std::uint64_t ram_bytes() const noexcept {
        std::uint64_t n = 0;
        for (const auto& r : ram)
            n += r.size;
        return n;
    }
};

}  // namespace ktstr::vmm
