// The CPUID a vCPU shows its guest: KVM's supported set
// (KVM_GET_SUPPORTED_CPUID) with this vCPU's identity and the VM's
// topology written in.
//
// Topology: one package of `cpus` cores, one thread each; vCPU i has APIC
// id i (as the MADT says). Rewritten leaves:
//   0x1         EBX[31:24] initial APIC id, EBX[23:16] logical processors
//               per package, EDX.HTT when cpus > 1, ECX.HYPERVISOR set
//   0x4         (Intel cache parameters) cores per package, and the L3
//               shared by all of them
//   0xB, 0x1F   (extended topology, where the maximum basic leaf reaches
//               them) SMT level: 1 thread, core level: `cpus` cores, EDX
//               the x2APIC id
//   0x80000008  (AMD) ECX: cores per package and APIC id core-id size
//   0x8000001E  (AMD, with TOPOEXT) extended APIC id, core id, node 0
// Everything else, the KVM paravirtual leaves (kvmclock) included, is
// KVM's. Linux needs kvmclock here: the hardware-reduced ACPI machine has
// no PIT or HPET clock to calibrate the TSC against.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <linux/kvm.h>

namespace ktstr::vmm::x86_64 {

// Pure: `supported` is not changed. Throws std::invalid_argument for
// apic_id >= cpus or cpus == 0.
std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::span<const kvm_cpuid_entry2> supported, std::uint32_t apic_id,
                                         std::uint32_t cpus);

// Bits needed to number `count` items (0 for 1, 1 for 2, 2 for 3 and 4...).
std::uint32_t topology_shift(std::uint32_t count) noexcept;

}  // namespace ktstr::vmm::x86_64
