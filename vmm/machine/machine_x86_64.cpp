// Machine on x86_64 (machine.hpp): the VM, its devices and vCPUs put
// together; the lifecycle is machine.cpp's, shared by every architecture.
#include "machine/machine.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

#include "arch/x86_64/boot_kernel.hpp"
#include "arch/x86_64/kernel_image_map.hpp"
#include "arch/x86_64/layout.hpp"
#include "kvm/vcpu_kick.hpp"
#include "arch/x86_64/vcpu/cpuid.hpp"
#include "machine/legacy_ports.hpp"
#include "arch/x86_64/vcpu/vcpu_setup.hpp"

namespace ktstr::vmm::machine {
namespace {

namespace x86 = x86_64;

MemoryMap plan_layout(const MachineConfig& config, const x86::BootKernel& kernel, byte_view initrd) {
    x86::LayoutRequest req;
    req.cpus = config.cpus;
    req.topology = config.topology;
    req.memory_bytes = config.memory_bytes;
    req.shm_bytes = config.shm_bytes;
    req.virtio_devices = 1;
    req.cmdline_extra = config.cmdline_extra;
    req.initrd_bytes = initrd.size();
    req.initrd_addr_max = x86::kernel_initrd_addr_max(kernel);
    req.kernel = x86::kernel_load_range(kernel);
    return x86::layout_x86_64(req);
}

}  // namespace

Machine::Machine(const MachineConfig& config, const BootFiles& boot)
    : map_(plan_layout(config, boot.kernel(), boot.initrd())),
      system_(kvm::KvmSystem::open(config.kvm_device)),
      vm_(system_.create_vm()) {
    // Before any vCPU exists: KVM's private pages (Intel), the irqchip.
    vm_.set_tss_addr(x86::kvm_tss_address);
    vm_.set_identity_map_addr(x86::kvm_identity_map_address);
    vm_.create_irqchip();
    vm_.create_pit2();

    ram_ = std::make_unique<GuestRam>(vm_, map_);
    const x86::CpuTopology topology = config.topology.value_or(x86::CpuTopology::flat(map_.cpus));
    const x86::BootPlan plan = x86::plan_boot(boot.kernel(), map_, boot.initrd(), topology);
    copy_boot_writes(plan.writes(), boot);
    add_devices(config, {.com1_gsi = x86::com1_irq,
                         .com2_gsi = x86::com2_irq,
                         .uart_bus = &io_,
                         .com1_base = x86::com1_port,
                         .com2_base = x86::com2_port,
                         .boot_timer = {x86::boot_timer_address, x86::boot_timer_size}});
    add_legacy_ports(io_, [this](x86::acpi::PowerRequest r) {
        stop_.request(r == x86::acpi::PowerRequest::power_off ? StopReason::power_off : StopReason::reset);
    });

    const auto supported = system_.supported_cpuid();
    for (std::uint32_t i = 0; i < map_.cpus; ++i) {
        // KVM's vCPU id is the initial (x2)APIC id the guest reads, so
        // it must be the one the MADT and CPUID give vCPU i.
        vcpus_.push_back(vm_.create_vcpu(topology.apic_id(i)));
        x86::configure_vcpu(vcpus_.back(), x86::vcpu_cpuid(supported, topology, i));
    }
    x86::load_boot_state(vcpus_.front(), plan.cpu());

    kvm::install_vcpu_kick_handler();
}

std::optional<std::uint64_t> Machine::kernel_image_page(const VcpuPosition& at) const {
    const auto& view = ram_->device_view();
    auto read = [&view](std::uint64_t gpa) -> std::optional<std::uint64_t> {
        const auto bytes = view.translate(gpa, 8);  // checked against guest RAM
        if (!bytes)
            return std::nullopt;
        return load_le<std::uint64_t>(bytes->data());
    };
    return x86_64::first_kernel_image_page(read, at.cr3, at.five_level);
}

}  // namespace ktstr::vmm::machine
