// Machine on aarch64 (machine.hpp): the VM, its devices and vCPUs put
// together; the lifecycle is machine.cpp's, shared by every architecture.
#include "machine/machine.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

#include "arch/aarch64/boot_plan.hpp"
#include "arch/aarch64/layout.hpp"
#include "arch/aarch64/vcpu/vcpu_setup.hpp"
#include "kvm/vcpu_kick.hpp"

namespace ktstr::vmm::machine {
namespace {

namespace arm = aarch64;

MemoryMap plan_layout(const MachineConfig& config, const arm::Image& kernel, byte_view initrd) {
    if (config.topology)
        throw std::invalid_argument("a CPU topology (--topology) is for x86_64 guests only");
    arm::LayoutRequestAarch64 req;
    req.cpus = config.cpus;
    req.memory_bytes = config.memory_bytes;
    req.shm_bytes = config.shm_bytes;
    req.initrd_bytes = initrd.size();
    req.kernel_reserve = arm::kernel_reserve(kernel);
    req.virtio_devices = 1;
    req.cmdline_extra = config.cmdline_extra;
    return arm::layout_aarch64(req);
}

}  // namespace

Machine::Machine(const MachineConfig& config, const BootFiles& boot)
    : map_(plan_layout(config, boot.kernel(), boot.initrd())),
      system_(kvm::KvmSystem::open(config.kvm_device)),
      vm_(system_.create_vm()) {
    ram_ = std::make_unique<GuestRam>(vm_, map_);

    // Every vCPU before the GIC (it gives each one a redistributor), the
    // device tree after both (its cpu nodes are KVM's MPIDRs).
    std::vector<std::uint64_t> mpidrs;
    for (std::uint32_t i = 0; i < map_.cpus; ++i) {
        vcpus_.push_back(vm_.create_vcpu(i));
        arm::init_vcpu(vm_, vcpus_.back(), i);
        mpidrs.push_back(arm::vcpu_mpidr(vcpus_.back()));
    }
    gic_ = std::make_unique<arm::Gicv3>(vm_, map_.cpus);

    const arm::BootPlan plan = arm::plan_boot(boot.kernel(), map_, boot.initrd(), mpidrs);
    copy_boot_writes(plan.writes(), boot);
    // irqfd GSIs are SPI numbers under the GIC's default routing.
    add_devices(config, {.com1_gsi = arm::uart_spi(0),
                         .com2_gsi = arm::uart_spi(1),
                         .uart_bus = &mmio_,
                         .com1_base = arm::uart_address(0),
                         .com2_base = arm::uart_address(1),
                         .boot_timer = {arm::boot_timer_address, arm::boot_timer_size}});

    arm::load_boot_state(vcpus_.front(), plan.entry(), plan.fdt_address());
    kvm::install_vcpu_kick_handler();
}

std::optional<std::uint64_t> Machine::kernel_image_page(const VcpuPosition&) const {
    return std::nullopt;  // the x86_64 page-table walk has no arm64 counterpart here
}

}  // namespace ktstr::vmm::machine
