// x86_64 vCPU state before the first KVM_RUN.
//
// Every vCPU: its CPUID (cpuid.hpp), the MSRs Linux expects a firmware to
// leave (fast strings on, write-back MTRR default type, syscall MSRs
// zeroed), and its local APIC's LINT0 as ExtINT (the 8259's output, as on
// a PC) and LINT1 as NMI. vCPU 0 also gets the boot protocol's entry
// state (BootCpuState: long mode, RSI = zero page) and a reset FPU; the
// others stay in KVM's wait-for-SIPI state until Linux starts them with
// INIT/SIPI through the in-kernel local APIC.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <linux/kvm.h>

#include "arch/x86_64/boot_cpu_state.hpp"
#include "kvm/kvm_vcpu.hpp"

namespace ktstr::vmm::x86_64 {

// Local APIC register offsets and LVT delivery modes (Intel SDM vol. 3 §11.5).
inline constexpr std::size_t apic_lvt_lint0 = 0x350;
inline constexpr std::size_t apic_lvt_lint1 = 0x360;
inline constexpr std::uint32_t apic_delivery_extint = 7u << 8;
inline constexpr std::uint32_t apic_delivery_nmi = 4u << 8;

// The MSRs every vCPU starts with.
std::vector<kvm_msr_entry> boot_msrs();

// kvm_regs / kvm_sregs for the boot state; `base` supplies what the boot
// state leaves alone (APIC base, CR8, interrupt bitmap).
kvm_regs boot_regs(const x86_64::BootCpuState& s);
kvm_sregs boot_sregs(const x86_64::BootCpuState& s, const kvm_sregs& base);

// LINT0/LINT1 written into a KVM_GET_LAPIC image.
void set_lint_modes(kvm_lapic_state& lapic) noexcept;

// CPUID, MSRs and local APIC of any vCPU. Throws KvmError.
void configure_vcpu(const kvm::KvmVcpu& vcpu, std::span<const kvm_cpuid_entry2> cpuid);
// The boot vCPU's registers, segments, control registers and FPU.
void load_boot_state(const kvm::KvmVcpu& vcpu, const x86_64::BootCpuState& s);

}  // namespace ktstr::vmm::x86_64
