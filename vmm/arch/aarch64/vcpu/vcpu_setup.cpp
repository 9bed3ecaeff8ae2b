#include "arch/aarch64/vcpu/vcpu_setup.hpp"

#include <cstddef>

#include <linux/kvm.h>

namespace ktstr::vmm::aarch64 {
namespace {

// A core register's id: its place in struct kvm_regs in 32-bit words.
constexpr std::uint64_t core_reg(std::size_t offset) {
    return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(std::uint32_t));
}
constexpr std::uint64_t x_reg(unsigned n) { return core_reg(offsetof(kvm_regs, regs.regs) + n * sizeof(std::uint64_t)); }
constexpr std::uint64_t pc_reg = core_reg(offsetof(kvm_regs, regs.pc));
constexpr std::uint64_t pstate_reg = core_reg(offsetof(kvm_regs, regs.pstate));
constexpr std::uint64_t mpidr_reg = ARM64_SYS_REG(3, 0, 0, 0, 5);  // MPIDR_EL1

// PSTATE: EL1 on its own stack (EL1h), D, A, I and F masked.
constexpr std::uint64_t pstate_el1h = 0x5;
constexpr std::uint64_t pstate_daif = 0xfull << 6;

}  // namespace

void init_vcpu(const kvm::KvmVm& vm, const kvm::KvmVcpu& vcpu, std::uint32_t index) {
    kvm_vcpu_init init = vm.arm_preferred_target();
    init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
    if (index != 0)
        init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
    vcpu.arm_init(init);
}

void load_boot_state(const kvm::KvmVcpu& vcpu, std::uint64_t entry, std::uint64_t fdt_address) {
    vcpu.set_one_reg(pstate_reg, pstate_el1h | pstate_daif);
    vcpu.set_one_reg(x_reg(0), fdt_address);
    for (unsigned n = 1; n <= 3; ++n)
        vcpu.set_one_reg(x_reg(n), 0);
    vcpu.set_one_reg(pc_reg, entry);
}

std::uint64_t vcpu_mpidr(const kvm::KvmVcpu& vcpu) { return vcpu.one_reg(mpidr_reg); }

std::uint64_t vcpu_pc(const kvm::KvmVcpu& vcpu) { return vcpu.one_reg(pc_reg); }

}  // namespace ktstr::vmm::aarch64
