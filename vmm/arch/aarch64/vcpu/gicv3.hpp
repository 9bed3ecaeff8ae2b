// The in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3): its distributor and one
// redistributor region placed where layout.hpp and the device tree say,
// and its SPIs sized for the devices. Made after every vCPU exists (KVM
// initialises one redistributor per vCPU then) and before the first run.
// Interrupts reach it through irqfds: an irqfd's GSI is the SPI number
// (INTID - 32) under KVM's default routing.
#pragma once

#include <cstdint>

#include "kvm/kvm_device.hpp"
#include "kvm/kvm_vm.hpp"

namespace ktstr::vmm::aarch64 {

class Gicv3 {
public:
    // Throws KvmError (no GICv3 support on this host: a GICv2-only machine
    // without the v3 emulation, or vCPUs that already ran).
    Gicv3(const kvm::KvmVm& vm, std::uint32_t cpus);

private:
    kvm::KvmDevice device_;
};

}  // namespace ktstr::vmm::aarch64
