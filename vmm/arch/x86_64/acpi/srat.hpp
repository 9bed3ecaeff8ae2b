// The SRAT (signature "SRAT", ACPI 6.3 §5.2.16): which NUMA node
// (proximity domain) each CPU and each piece of RAM belongs to. Added to
// the XSDT only when the topology has more than one node.
//
// Entries:
//   one Processor Local APIC Affinity per vCPU, in vCPU order: its APIC id
//     and its node (topology.hpp), enabled
//   one Memory Affinity per piece of node_memory(): base, length, node,
//     enabled
//
// node_memory splits the guest's RAM ranges (MemoryMap::ram, in address
// order) into `nodes` consecutive shares of nearly equal size: every RAM
// byte in exactly one node, each piece inside one RAM range (so no piece
// spans the SHM gap or the MMIO hole), node 0 lowest. Cuts fall on 2 MiB
// boundaries of the RAM counted from its start, so a node's share is
// within 2 MiB of the others'.
#pragma once

#include <cstdint>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/topology.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64::acpi {

inline constexpr std::uint8_t srat_revision = 3;  // ACPI 6.3
inline constexpr std::uint8_t srat_local_apic_affinity = 0;
inline constexpr std::uint8_t srat_memory_affinity = 1;
inline constexpr std::size_t srat_local_apic_affinity_size = 16;
inline constexpr std::size_t srat_memory_affinity_size = 40;
inline constexpr std::size_t srat_entries_offset = 48;  // header, then 4 bytes (1) and 8 reserved

struct NodeMemory {
    std::uint32_t node = 0;
    GuestRange range;
    friend bool operator==(const NodeMemory&, const NodeMemory&) = default;
};

// In address order. Throws LayoutError when a node would get no RAM.
std::vector<NodeMemory> node_memory(const MemoryMap& map, std::uint32_t nodes);

// Throws LayoutError for a topology check_topology refuses or one whose
// vCPU count is not map.cpus.
byte_buffer build_srat(const MemoryMap& map, const CpuTopology& topology);

}  // namespace ktstr::vmm::x86_64::acpi
