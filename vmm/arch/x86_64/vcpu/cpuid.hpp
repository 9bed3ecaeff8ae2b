// The CPUID a vCPU shows its guest: KVM's supported set
// (KVM_GET_SUPPORTED_CPUID) with this vCPU's identity and the VM's
// topology (topology.hpp) written in.
//
// Counts of "logical processors sharing" something are written as
// addressable-ID spans (a power of two minus 1), as the SDM and APM define
// them: Linux turns them into APIC id ranges (cache sharing masks, LLC
// ids), so a span must cover the field's bits even when a count (3 cores)
// is not a power of two.
//
// Both vendors (vendor from leaf 0):
//   0x1         EBX[31:24] initial APIC id, EBX[23:16] the package's ID
//               span, EDX.HTT when it is above 1, ECX.HYPERVISOR
//   0xB         SMT level (thread bits, threads per core), core level
//               (shift to the package = node, its logical CPUs), EDX the
//               x2APIC id; where the maximum basic leaf reaches it
//   0x1F        where the maximum basic leaf reaches it, as 0xB; on Intel
//               with more than one LLC per node also a DIE level = the LLC
//               (type 5), the maximum basic leaf raised to 0x1F for it
//               (leaves in between read as zeros): Linux then reports
//               die_id = the LLC (6.1: numbered inside its package; 6.12:
//               across the machine)
// Intel (and any vendor not AMD or Hygon):
//   0x4         each cache subleaf: EAX[25:14] threads of a core for L1
//               and L2, the LLC's span for L3; EAX[31:26] the package's core
//               span
// AMD and Hygon:
//   0x80000001  ECX.TOPOEXT set: the two leaves below are emulated
//   0x80000000  EAX raised to 0x8000001E if lower
//   0x80000008  ECX NC = logical CPUs per package - 1, ApicIdCoreIdSize =
//               the package shift
//   0x8000001D  cache topology: the host's subleaves, or when it has none a
//               fixed set (L1d and L1i 32 KiB, L2 512 KiB, L3 8 MiB per
//               LLC); EAX[25:14] as for leaf 4
//   0x8000001E  EAX extended APIC id; EBX core id (inside the package),
//               threads per core - 1; ECX node id = the LLC, numbered
//               across the machine, nodes per processor - 1 = 0. AMD's
//               "node" is the internal die that owns an L3: Linux takes the
//               LLC id from it on families before 0x17 (the emulated host's
//               QEMU CPU is family 0xF), and 6.1 its die_id. No DIE level in
//               0x1F for AMD: 6.1 would then take die_id, and with it the
//               LLC id, from 0x1F, numbered inside the package, and LLCs of
//               different nodes would share an id (a topology_sane warning).
//               "Nodes per processor" stays 1: more would make 6.12 reduce
//               core ids modulo the cores per node on those families.
//   0x80000026  dropped (6.12 would read it before 0xB)
// Everything else, the KVM paravirtual leaves (kvmclock) included, is
// KVM's. Linux needs kvmclock here: the hardware-reduced ACPI machine has
// no PIT or HPET clock to calibrate the TSC against.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <linux/kvm.h>

#include "arch/x86_64/topology.hpp"

namespace ktstr::vmm::x86_64 {

// Pure: `supported` is not changed. Throws std::invalid_argument for a
// topology check_topology refuses or vcpu >= topology.cpus().
std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::span<const kvm_cpuid_entry2> supported, const CpuTopology& topology,
                                         std::uint32_t vcpu);

}  // namespace ktstr::vmm::x86_64
