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

// A 16550 on its MMIO window (byte registers, reg-shift 0).
void add_uart(Bus& mmio, const char* name, std::uint64_t base, devices::Serial16550& uart) {
    mmio.add({base, devices::uart_register_count},
             BusDevice{name,
                       [&uart](std::uint64_t offset, mutable_byte_view data) {
                           for (std::size_t i = 0; i < data.size(); ++i)
                               data[i] = uart.read(static_cast<std::uint8_t>(offset + i));
                       },
                       [&uart](std::uint64_t offset, byte_view data) {
                           for (std::size_t i = 0; i < data.size(); ++i)
                               uart.write(static_cast<std::uint8_t>(offset + i), data[i]);
                       }});
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
    // In pieces, dropped from this process's memory once copied
    // (BootFiles), as on x86_64.
    constexpr std::size_t piece = std::size_t{256} << 10;
    for (const auto& w : plan.writes()) {
        for (std::size_t at = 0; at < w.bytes.size(); at += piece) {
            const byte_view part = w.bytes.subspan(at, std::min(piece, w.bytes.size() - at));
            ram_->write(w.address + at, part);
            boot.drop_resident(part);
        }
    }

    // irqfd GSIs are SPI numbers under the GIC's default routing.
    com1_irq_ = std::make_unique<kvm::Irqfd>(vm_, arm::uart_spi(0));
    com2_irq_ = std::make_unique<kvm::Irqfd>(vm_, arm::uart_spi(1));
    const MmioDevice& window = map_.mmio.at(0);
    virtio_irq_ = std::make_unique<kvm::Irqfd>(vm_, window.irq);

    com1_ = std::make_unique<devices::Serial16550>(
        [this](byte_view b) {
            if (outputs_.com1)
                outputs_.com1(b);
        },
        [irq = com1_irq_.get()] { irq->signal(); });
    com2_ = std::make_unique<devices::Serial16550>(
        [this](byte_view b) {
            if (outputs_.com2)
                outputs_.com2(b);
        },
        [irq = com2_irq_.get()] { irq->signal(); });
    console_ = std::make_unique<devices::VirtioConsole>(config.console, [this](std::uint32_t port, byte_view b) {
        if (outputs_.console)
            outputs_.console(port, b);
    });
    transport_ = std::make_unique<devices::VirtioMmio>(*console_, ram_->device_view(),
                                                       [irq = virtio_irq_.get()] { irq->signal(); });

    for (std::uint16_t q = 0; q < console_->queue_count(); ++q) {
        kvm::KvmVm::IoEventSpec spec{.address = window.window.start + devices::virtio_mmio_queue_notify,
                                     .length = 4,
                                     .pio = false,
                                     .match_data = true,
                                     .data = q};
        queue_events_.push_back(std::make_unique<kvm::Ioeventfd>(vm_, spec));
        const kvm::EventFd* event = &queue_events_.back()->event();
        event_sources_.push_back({event, [t = transport_.get(), q, event] {
                                      if (t->notify(q))
                                          event->signal();
                                  }});
    }
    console_->set_work_left([this](std::uint16_t q) {
        if (q < queue_events_.size())
            queue_events_[q]->event().signal();
    });

    add_uart(mmio_, "uart0", arm::uart_address(0), *com1_);
    add_uart(mmio_, "uart1", arm::uart_address(1), *com2_);
    mmio_.add({arm::boot_timer_address, arm::boot_timer_size},
              BusDevice{"boot-timer", &devices::BootTimer::read,
                        [t = &boot_timer_](std::uint64_t off, byte_view d) { t->write(off, d); }});
    mmio_.add(window.window, BusDevice{window.name,
                                       [t = transport_.get()](std::uint64_t off, mutable_byte_view d) { t->read(off, d); },
                                       [t = transport_.get()](std::uint64_t off, byte_view d) { t->write(off, d); }});

    arm::load_boot_state(vcpus_.front(), plan.entry(), plan.fdt_address());
    kvm::install_vcpu_kick_handler();
}

std::optional<std::uint64_t> Machine::kernel_image_page(const VcpuPosition&) const {
    return std::nullopt;  // the x86_64 page-table walk has no arm64 counterpart here
}

}  // namespace ktstr::vmm::machine
