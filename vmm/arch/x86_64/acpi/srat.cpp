// SRAT: CPU and memory affinity to NUMA nodes.
#include "arch/x86_64/acpi/srat.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64::acpi {
namespace {

constexpr std::uint32_t affinity_enabled = 1;
constexpr std::uint64_t node_granule = 2 * mib;

void local_apic_affinity(byte_buffer& t, std::uint32_t node, std::uint8_t apic_id) {
    t.push_back(srat_local_apic_affinity);
    t.push_back(static_cast<std::uint8_t>(srat_local_apic_affinity_size));
    t.push_back(static_cast<std::uint8_t>(node));  // proximity domain [7:0]
    t.push_back(apic_id);
    append_le(t, affinity_enabled);
    t.push_back(0);  // local SAPIC EID
    for (unsigned shift : {8u, 16u, 24u})  // proximity domain [31:8]
        t.push_back(static_cast<std::uint8_t>(node >> shift));
    append_le<std::uint32_t>(t, 0);  // clock domain
}

void memory_affinity(byte_buffer& t, const NodeMemory& m) {
    t.push_back(srat_memory_affinity);
    t.push_back(static_cast<std::uint8_t>(srat_memory_affinity_size));
    append_le(t, m.node);
    append_le<std::uint16_t>(t, 0);
    append_le(t, m.range.start);
    append_le(t, m.range.size);
    append_le<std::uint32_t>(t, 0);
    append_le(t, affinity_enabled);
    append_le<std::uint64_t>(t, 0);
}

}  // namespace

std::vector<NodeMemory> node_memory(const MemoryMap& map, std::uint32_t nodes) {
    if (nodes == 0)
        throw LayoutError("SRAT: 0 nodes");
    const std::uint64_t total = map.ram_bytes();
    // cut[k]: how much RAM (counted from the first byte) nodes below k hold.
    std::vector<std::uint64_t> cut(nodes + 1);
    for (std::uint32_t k = 1; k < nodes; ++k)
        cut[k] = total / nodes * k / node_granule * node_granule;
    cut[nodes] = total;
    for (std::uint32_t k = 0; k < nodes; ++k)
        if (cut[k + 1] <= cut[k])
            throw LayoutError(fmt::format("{} MiB of RAM cannot be split into {} NUMA nodes", total / mib, nodes));

    std::vector<NodeMemory> out;
    std::uint64_t before = 0;  // RAM bytes in the ranges already walked
    for (const GuestRange& r : map.ram) {
        for (std::uint32_t k = 0; k < nodes; ++k) {
            const std::uint64_t lo = std::max(cut[k], before);
            const std::uint64_t hi = std::min(cut[k + 1], before + r.size);
            if (lo < hi)
                out.push_back({k, {r.start + (lo - before), hi - lo}});
        }
        before += r.size;
    }
    return out;
}

byte_buffer build_srat(const MemoryMap& map, const CpuTopology& topology) {
    try {
        check_topology(topology);
    } catch (const std::invalid_argument& e) {
        throw LayoutError(fmt::format("SRAT: {}", e.what()));
    }
    if (topology.cpus() != map.cpus)
        throw LayoutError(fmt::format("SRAT: the topology has {} vCPUs, the memory map {}", topology.cpus(),
                                      map.cpus));
    byte_buffer t = begin_sdt("SRAT", srat_revision);
    append_le<std::uint32_t>(t, 1);  // reserved, 1 for compatibility
    append_le<std::uint64_t>(t, 0);  // reserved
    for (std::uint32_t i = 0; i < map.cpus; ++i)
        local_apic_affinity(t, topology.place(i).node, static_cast<std::uint8_t>(topology.apic_id(i)));
    for (const NodeMemory& m : node_memory(map, topology.nodes))
        memory_affinity(t, m);
    finish_sdt(t);
    return t;
}

}  // namespace ktstr::vmm::x86_64::acpi
