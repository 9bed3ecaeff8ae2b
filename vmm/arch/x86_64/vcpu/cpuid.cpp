#include "arch/x86_64/vcpu/cpuid.hpp"

#include <algorithm>
#include <stdexcept>

namespace ktstr::vmm::x86_64 {
namespace {

constexpr std::uint32_t leaf_features = 0x1;
constexpr std::uint32_t leaf_cache_params = 0x4;
constexpr std::uint32_t leaf_topology = 0xb;
constexpr std::uint32_t leaf_topology_v2 = 0x1f;
constexpr std::uint32_t leaf_ext_features = 0x80000001;
constexpr std::uint32_t leaf_amd_size = 0x80000008;
constexpr std::uint32_t leaf_amd_topology = 0x8000001e;

constexpr std::uint32_t edx_htt = 1u << 28;
constexpr std::uint32_t ecx_hypervisor = 1u << 31;
constexpr std::uint32_t ecx_topoext = 1u << 22;  // leaf 0x80000001

// Extended topology level types (ECX[15:8]).
constexpr std::uint32_t level_invalid = 0;
constexpr std::uint32_t level_smt = 1;
constexpr std::uint32_t level_core = 2;

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

kvm_cpuid_entry2 topology_entry(std::uint32_t function, std::uint32_t index, std::uint32_t apic_id,
                                std::uint32_t cpus) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    e.edx = apic_id;
    switch (index) {
    case 0:  // SMT: one thread per core, so the next level starts at bit 0
        e.eax = 0;
        e.ebx = 1;
        e.ecx = (level_smt << 8) | index;
        break;
    case 1:  // cores: all of them, which also ends the package id field
        e.eax = topology_shift(cpus);
        e.ebx = cpus;
        e.ecx = (level_core << 8) | index;
        break;
    default:  // the first invalid level ends the enumeration
        e.eax = 0;
        e.ebx = 0;
        e.ecx = (level_invalid << 8) | index;
        break;
    }
    return e;
}

}  // namespace

std::uint32_t topology_shift(std::uint32_t count) noexcept {
    std::uint32_t shift = 0;
    while (shift < 32 && (1ull << shift) < count)
        ++shift;
    return shift;
}

std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::span<const kvm_cpuid_entry2> supported, std::uint32_t apic_id,
                                         std::uint32_t cpus) {
    if (cpus == 0 || apic_id >= cpus)
        throw std::invalid_argument("vcpu_cpuid: APIC id must be below the vCPU count");
    const kvm_cpuid_entry2* leaf0 = find(supported, 0);
    const std::uint32_t max_basic = leaf0 ? leaf0->eax : 0;
    const kvm_cpuid_entry2* ext = find(supported, leaf_ext_features);
    const bool topoext = ext && (ext->ecx & ecx_topoext);
    const std::uint32_t shift = topology_shift(cpus);

    std::vector<kvm_cpuid_entry2> out;
    out.reserve(supported.size() + 6);
    for (kvm_cpuid_entry2 e : supported) {
        switch (e.function) {
        case leaf_features:
            set_bits(e.ebx, 24, 8, apic_id);
            set_bits(e.ebx, 16, 8, std::min(cpus, 255u));
            if (cpus > 1)
                e.edx |= edx_htt;
            e.ecx |= ecx_hypervisor;
            break;
        case leaf_cache_params:
            if ((e.eax & 0x1f) != 0) {  // a cache, not the terminating entry
                set_bits(e.eax, 26, 6, std::min(cpus, 64u) - 1);
                const std::uint32_t level = (e.eax >> 5) & 7;
                set_bits(e.eax, 14, 12, level >= 3 ? std::min(cpus, 4096u) - 1 : 0);
            }
            break;
        case leaf_topology:
        case leaf_topology_v2:
            continue;  // rebuilt below
        case leaf_amd_size:
            set_bits(e.ecx, 0, 8, std::min(cpus, 256u) - 1);
            set_bits(e.ecx, 12, 4, shift);
            break;
        case leaf_amd_topology:
            if (!topoext)
                break;
            e.eax = apic_id;
            e.ebx = apic_id & 0xff;  // core id; threads per core - 1 = 0
            e.ecx = 0;               // node 0, one node per package
            break;
        default:
            break;
        }
        out.push_back(e);
    }
    for (std::uint32_t function : {leaf_topology, leaf_topology_v2}) {
        if (max_basic < function)
            continue;
        for (std::uint32_t index = 0; index < 3; ++index)
            out.push_back(topology_entry(function, index, apic_id, cpus));
    }
    return out;
}

}  // namespace ktstr::vmm::x86_64
