#include "arch/x86_64/vcpu/cpuid.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace ktstr::vmm::x86_64 {
namespace {

constexpr std::uint32_t leaf_vendor = 0x0;
constexpr std::uint32_t leaf_features = 0x1;
constexpr std::uint32_t leaf_cache_params = 0x4;
constexpr std::uint32_t leaf_topology = 0xb;
constexpr std::uint32_t leaf_topology_v2 = 0x1f;
constexpr std::uint32_t leaf_ext_max = 0x80000000;
constexpr std::uint32_t leaf_ext_features = 0x80000001;
constexpr std::uint32_t leaf_amd_size = 0x80000008;
constexpr std::uint32_t leaf_amd_cache = 0x8000001d;
constexpr std::uint32_t leaf_amd_topology = 0x8000001e;
constexpr std::uint32_t leaf_amd_topology_v2 = 0x80000026;

constexpr std::uint32_t edx_htt = 1u << 28;
constexpr std::uint32_t ecx_hypervisor = 1u << 31;
constexpr std::uint32_t ecx_topoext = 1u << 22;  // leaf 0x80000001

// Extended topology level types (ECX[15:8]).
constexpr std::uint32_t level_invalid = 0;
constexpr std::uint32_t level_smt = 1;
constexpr std::uint32_t level_core = 2;
constexpr std::uint32_t level_die = 5;

const kvm_cpuid_entry2* find(std::span<const kvm_cpuid_entry2> e, std::uint32_t function) {
    for (const auto& x : e)
        if (x.function == function)
            return &x;
    return nullptr;
}

void set_bits(std::uint32_t& reg, unsigned lo, unsigned width, std::uint32_t value) {
    const std::uint32_t mask = (width >= 32 ? ~0u : ((1u << width) - 1)) << lo;
    reg = (reg & ~mask) | ((value << lo) & mask);
}

// AuthenticAMD or HygonGenuine: the vendors whose topology lives in the
// 0x8000001x leaves.
bool amd_style(const kvm_cpuid_entry2* leaf0) {
    if (!leaf0)
        return false;
    char v[12];
    std::memcpy(v, &leaf0->ebx, 4);
    std::memcpy(v + 4, &leaf0->edx, 4);
    std::memcpy(v + 8, &leaf0->ecx, 4);
    const std::string_view vendor(v, sizeof v);
    return vendor == "AuthenticAMD" || vendor == "HygonGenuine";
}

struct Level {
    std::uint32_t type;
    std::uint32_t shift;  // to the next level's id
    std::uint32_t cpus;   // logical CPUs at this level
};

kvm_cpuid_entry2 topology_entry(std::uint32_t function, std::uint32_t index, const Level& l, std::uint32_t apic_id) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    e.eax = l.shift;
    e.ebx = l.cpus;
    e.ecx = (l.type << 8) | index;
    e.edx = apic_id;
    return e;
}

// EAX[25:14] of a cache subleaf (leaf 4 and 0x8000001D): the span of the
// logical CPUs sharing it, minus 1. L1 and L2 belong to a core, the rest
// to the LLC.
std::uint32_t sharing_span(const CpuTopology& t, std::uint32_t cache_level) {
    return (1u << (cache_level <= 2 ? t.thread_bits() : t.llc_shift())) - 1;
}

// L1d, L1i, L2, L3 in the leaf-4 format, for a host whose supported CPUID
// has no 0x8000001D: sizes plausible for a small x86 core, 64-byte lines.
kvm_cpuid_entry2 fixed_cache(std::uint32_t index) {
    struct Cache {
        std::uint32_t type, level, ways, sets;
    };
    constexpr std::array<Cache, 4> caches{{{1, 1, 8, 64}, {2, 1, 8, 64}, {3, 2, 8, 1024}, {3, 3, 16, 8192}}};
    kvm_cpuid_entry2 e{};
    e.function = leaf_amd_cache;
    e.index = index;
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    if (index < caches.size()) {
        const Cache& c = caches[index];
        e.eax = c.type | (c.level << 5) | (1u << 8);  // self-initialising
        e.ebx = (64 - 1) | ((c.ways - 1) << 22);      // line size, 1 partition, ways
        e.ecx = c.sets - 1;
    }
    return e;
}

}  // namespace

std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::span<const kvm_cpuid_entry2> supported, const CpuTopology& t,
                                         std::uint32_t vcpu) {
    check_topology(t);
    if (vcpu >= t.cpus())
        throw std::invalid_argument("vcpu_cpuid: vCPU index must be below the topology's vCPU count");
    const std::uint32_t apic_id = t.apic_id(vcpu);
    const kvm_cpuid_entry2* leaf0 = find(supported, leaf_vendor);
    const bool amd = amd_style(leaf0);
    // AMD gets its LLCs from 0x8000001E's node id instead: a DIE level
    // would make Linux 6.1 number LLCs inside their package (see the header).
    const bool die_level = !amd && t.llcs_per_node > 1;
    std::uint32_t max_basic = leaf0 ? leaf0->eax : 0;
    if (die_level && leaf0)
        max_basic = std::max(max_basic, leaf_topology_v2);
    const std::uint32_t package_span = 1u << t.node_shift();
    const std::uint32_t package_cpus = t.llcs_per_node * t.cores_per_llc * t.threads_per_core;
    // The host describes its caches in 0x8000001D (subleaf 0 is a cache).
    const kvm_cpuid_entry2* host_cache = find(supported, leaf_amd_cache);
    const bool host_amd_caches = amd && host_cache && (host_cache->eax & 0x1f) != 0;

    std::vector<kvm_cpuid_entry2> out;
    out.reserve(supported.size() + 12);
    for (kvm_cpuid_entry2 e : supported) {
        switch (e.function) {
        case leaf_vendor:
            e.eax = max_basic;
            break;
        case leaf_features:
            set_bits(e.ebx, 24, 8, apic_id);
            set_bits(e.ebx, 16, 8, std::min(package_span, 255u));
            if (package_span > 1)
                e.edx |= edx_htt;
            e.ecx |= ecx_hypervisor;
            break;
        case leaf_cache_params:
            if (!amd && (e.eax & 0x1f) != 0) {  // a cache, not the terminating entry
                set_bits(e.eax, 26, 6, (1u << (t.node_shift() - t.thread_bits())) - 1);
                set_bits(e.eax, 14, 12, sharing_span(t, (e.eax >> 5) & 7));
            }
            break;
        case leaf_topology:
        case leaf_topology_v2:
        case leaf_amd_topology:
        case leaf_amd_topology_v2:
            continue;  // rebuilt below (0x80000026: left out)
        case leaf_amd_cache:
            if (!amd)
                break;
            if (!host_amd_caches)
                continue;  // the fixed set is added below
            if ((e.eax & 0x1f) != 0) {
                set_bits(e.eax, 26, 6, 0);  // reserved on AMD
                set_bits(e.eax, 14, 12, sharing_span(t, (e.eax >> 5) & 7));
            }
            break;
        case leaf_ext_max:
            if (amd)
                e.eax = std::max(e.eax, leaf_amd_topology);
            break;
        case leaf_ext_features:
            if (amd)
                e.ecx |= ecx_topoext;
            break;
        case leaf_amd_size:
            if (amd) {
                set_bits(e.ecx, 0, 8, package_cpus - 1);
                set_bits(e.ecx, 12, 4, t.node_shift());
            }
            break;
        default:
            break;
        }
        out.push_back(e);
    }

    const Level smt{level_smt, t.thread_bits(), t.threads_per_core};
    const Level terminator{level_invalid, 0, 0};
    if (max_basic >= leaf_topology) {
        const Level core{level_core, t.node_shift(), package_cpus};
        const std::array<Level, 3> levels{smt, core, terminator};
        for (std::uint32_t i = 0; i < levels.size(); ++i)
            out.push_back(topology_entry(leaf_topology, i, levels[i], apic_id));
    }
    if (max_basic >= leaf_topology_v2) {
        std::vector<Level> levels{smt};
        if (die_level) {
            levels.push_back({level_core, t.llc_shift(), t.cores_per_llc * t.threads_per_core});
            levels.push_back({level_die, t.node_shift(), package_cpus});
        } else {
            levels.push_back({level_core, t.node_shift(), package_cpus});
        }
        levels.push_back(terminator);
        for (std::uint32_t i = 0; i < levels.size(); ++i)
            out.push_back(topology_entry(leaf_topology_v2, i, levels[i], apic_id));
    }
    if (amd) {
        if (!host_amd_caches) {
            for (std::uint32_t i = 0; i < 5; ++i) {
                kvm_cpuid_entry2 e = fixed_cache(i);
                if (e.eax != 0)
                    set_bits(e.eax, 14, 12, sharing_span(t, (e.eax >> 5) & 7));
                out.push_back(e);
            }
        }
        kvm_cpuid_entry2 e{};
        e.function = leaf_amd_topology;
        e.eax = apic_id;
        e.ebx = ((apic_id >> t.thread_bits()) & ((1u << (t.node_shift() - t.thread_bits())) - 1) & 0xff) |
                ((t.threads_per_core - 1) << 8);
        // The LLC as AMD's "node" (the internal die that owns an L3),
        // numbered across the machine; one per processor as far as the
        // count says, so Linux applies no multi-node core id fixup.
        e.ecx = t.llc_index(vcpu) & 0xff;
        out.push_back(e);
    }
    return out;
}

}  // namespace ktstr::vmm::x86_64
