#include "arch/aarch64/vcpu/gicv3.hpp"

#include <string>

#include <linux/kvm.h>

#include "arch/aarch64/layout.hpp"
#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::aarch64 {
namespace {

// INTIDs the distributor implements: the 32 private ones, then SPIs for
// the UARTs and the virtio-mmio windows with room to spare; a multiple
// of 32, as KVM requires.
constexpr std::uint32_t gic_irqs = 128;
static_assert(gic_spi_intid_base + virtio_first_spi + virtio_mmio_slots <= gic_irqs);

}  // namespace

namespace {

kvm::KvmDevice create_gicv3(const kvm::KvmVm& vm) {
    try {
        return vm.create_device(KVM_DEV_TYPE_ARM_VGIC_V3);
    } catch (const kvm::KvmError& e) {
        throw kvm::KvmError(std::string("KVM cannot emulate a GICv3 on this host (a GICv2-only machine?): ") + e.what(),
                            0);
    }
}

}  // namespace

Gicv3::Gicv3(const kvm::KvmVm& vm, std::uint32_t cpus) : device_(create_gicv3(vm)) {
    device_.set_attr_u64(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, gic_dist_base);
    // One region holding every vCPU's redistributor frames, in vCPU order.
    device_.set_attr_u64(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, gic_redist_range(cpus).start);
    device_.set_attr_u32(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, gic_irqs);
    device_.set_attr(KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr);
}

}  // namespace ktstr::vmm::aarch64
