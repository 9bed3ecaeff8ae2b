// An arm64 vCPU made ready to boot Linux: KVM_ARM_VCPU_INIT with the host's
// preferred target and PSCI 0.2 (the kernel's CPU_ON, SYSTEM_OFF and
// SYSTEM_RESET go through KVM's in-kernel PSCI, the device tree's "hvc"
// method), the boot vCPU's registers as booting.rst asks.
#pragma once

#include <cstdint>

#include "kvm/kvm_vcpu.hpp"
#include "kvm/kvm_vm.hpp"

namespace ktstr::vmm::aarch64 {

// KVM_ARM_VCPU_INIT for vCPU `index`: every vCPU but the first starts
// powered off, to be started by the guest's PSCI CPU_ON.
void init_vcpu(const kvm::KvmVm& vm, const kvm::KvmVcpu& vcpu, std::uint32_t index);

// The boot vCPU at the kernel's entry: pc = entry, x0 = the device tree's
// address, x1..x3 = 0, EL1h with every exception masked (KVM's reset
// state, set again so nothing depends on it).
void load_boot_state(const kvm::KvmVcpu& vcpu, std::uint64_t entry, std::uint64_t fdt_address);

// MPIDR_EL1 as KVM gives it to the vCPU: the device tree's cpu "reg".
std::uint64_t vcpu_mpidr(const kvm::KvmVcpu& vcpu);

// The program counter, for where a stopped vCPU was.
std::uint64_t vcpu_pc(const kvm::KvmVcpu& vcpu);

}  // namespace ktstr::vmm::aarch64
