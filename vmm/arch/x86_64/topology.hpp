// The guest's CPU topology: NUMA nodes, LLCs per node, cores per LLC,
// threads per core, and the x2APIC id each vCPU gets from it.
//
// vCPUs are numbered node-major: vCPU i = ((node * llcs_per_node + llc) *
// cores_per_llc + core) * threads_per_core + thread, so node 0 holds the
// first cpus()/nodes vCPUs (Linux numbers CPUs in MADT order, which is
// this order).
//
// APIC ids pack the same fields the way CPUID's topology leaves describe
// them (Intel SDM "Extended Topology Enumeration"; AMD's
// ApicIdCoreIdSize): thread bits lowest, then core bits, then LLC bits,
// then node bits; each field is as wide as its count needs (3 cores take 2
// bits), so an id is sparse when a count is not a power of two. A node is
// also a package: Linux then sees one NUMA node per package, the usual
// shape, and never "NUMA in package".
//
// Ids are kept at most max_apic_id (254): the MADT describes every CPU
// with an xAPIC entry (255 is the xAPIC broadcast id), which every Linux
// the VMM boots parses; no x2APIC entries are needed.
#pragma once

#include <cstdint>
#include <string_view>

namespace ktstr::vmm::x86_64 {

inline constexpr std::uint32_t max_apic_id = 254;

// Where one vCPU sits; every field counts from 0 inside its parent.
struct CpuPlace {
    std::uint32_t node = 0;
    std::uint32_t llc = 0;     // inside the node
    std::uint32_t core = 0;    // inside the LLC
    std::uint32_t thread = 0;  // inside the core
    friend bool operator==(const CpuPlace&, const CpuPlace&) = default;
};

struct CpuTopology {
    std::uint32_t nodes = 1;
    std::uint32_t llcs_per_node = 1;
    std::uint32_t cores_per_llc = 1;
    std::uint32_t threads_per_core = 1;

    // One package, one LLC, `cpus` single-thread cores: APIC id = vCPU
    // index, what the VMM showed before topologies existed.
    static CpuTopology flat(std::uint32_t cpus) noexcept { return {1, 1, cpus, 1}; }

    // The product of the four counts (64-bit: four 32-bit counts overflow).
    std::uint64_t cpus() const noexcept;

    // Field widths of the APIC id, and where each field starts.
    std::uint32_t thread_bits() const noexcept;
    std::uint32_t core_bits() const noexcept;
    std::uint32_t llc_bits() const noexcept;
    std::uint32_t node_bits() const noexcept;
    std::uint32_t core_shift() const noexcept { return thread_bits(); }
    std::uint32_t llc_shift() const noexcept { return core_shift() + core_bits(); }
    std::uint32_t node_shift() const noexcept { return llc_shift() + llc_bits(); }

    CpuPlace place(std::uint32_t vcpu) const noexcept;
    std::uint32_t apic_id(std::uint32_t vcpu) const noexcept;
    // The node's index among all LLCs: node * llcs_per_node + llc.
    std::uint32_t llc_index(std::uint32_t vcpu) const noexcept;

    friend bool operator==(const CpuTopology&, const CpuTopology&) = default;
};

// Bits needed to number `count` items (0 for 1, 1 for 2, 2 for 3 and 4...).
std::uint32_t topology_shift(std::uint32_t count) noexcept;

// Throws std::invalid_argument with a one-line reason when `t` cannot be
// given to a guest: a zero count, more than max_cpus vCPUs (layout.hpp),
// or a highest APIC id above max_apic_id.
void check_topology(const CpuTopology& t);

// "NODES,LLCS,CORES,THREADS" (decimal), checked as check_topology does.
// Throws std::invalid_argument naming what is wrong.
CpuTopology parse_topology(std::string_view text);

}  // namespace ktstr::vmm::x86_64
