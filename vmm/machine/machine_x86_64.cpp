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

// A 16550 on eight ports of the I/O bus.
void add_uart(Bus& io, const char* name, std::uint16_t base, devices::Serial16550& uart) {
    io.add({base, devices::uart_register_count},
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
    // Before any vCPU exists: KVM's private pages (Intel), the irqchip.
    vm_.set_tss_addr(x86::kvm_tss_address);
    vm_.set_identity_map_addr(x86::kvm_identity_map_address);
    vm_.create_irqchip();
    vm_.create_pit2();

    ram_ = std::make_unique<GuestRam>(vm_, map_);
    const x86::CpuTopology topology = config.topology.value_or(x86::CpuTopology::flat(map_.cpus));
    const x86::BootPlan plan = x86::plan_boot(boot.kernel(), map_, boot.initrd(), topology);
    // In pieces: a piece of the kernel or the initrd leaves this process's
    // resident memory once it is in guest RAM (BootFiles), so at most one
    // piece of either file counts in it at a time, never the whole file.
    constexpr std::size_t piece = std::size_t{256} << 10;
    for (const auto& w : plan.writes()) {
        for (std::size_t at = 0; at < w.bytes.size(); at += piece) {
            const byte_view part = w.bytes.subspan(at, std::min(piece, w.bytes.size() - at));
            ram_->write(w.address + at, part);
            boot.drop_resident(part);
        }
    }

    com1_irq_ = std::make_unique<kvm::Irqfd>(vm_, x86::com1_irq);
    com2_irq_ = std::make_unique<kvm::Irqfd>(vm_, x86::com2_irq);
    const MmioDevice& window = map_.mmio.at(0);
    virtio_irq_ = std::make_unique<kvm::Irqfd>(vm_, window.irq);

    // The devices' sinks reach run()'s outputs, set only while it runs
    // (the transport's destructor resets the console, which may still
    // transmit: nowhere to go then).
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

    // QueueNotify writes carry the queue index: one ioeventfd per queue.
    for (std::uint16_t q = 0; q < console_->queue_count(); ++q) {
        kvm::KvmVm::IoEventSpec spec{.address = window.window.start + devices::virtio_mmio_queue_notify,
                                     .length = 4,
                                     .pio = false,
                                     .match_data = true,
                                     .data = q};
        queue_events_.push_back(std::make_unique<kvm::Ioeventfd>(vm_, spec));
        // Work the device left (its bounded share per call) is asked for
        // again through the queue's own event, so the device thread serves
        // the other queues in between and a stop still gets through.
        const kvm::EventFd* event = &queue_events_.back()->event();
        event_sources_.push_back({event, [t = transport_.get(), q, event] {
                                      if (t->notify(q))
                                          event->signal();
                                  }});
    }

    // Work a drain of the device's own left (host bytes, a port opening)
    // comes back through the same events.
    console_->set_work_left([this](std::uint16_t q) {
        if (q < queue_events_.size())
            queue_events_[q]->event().signal();
    });

    add_uart(io_, "com1", x86::com1_port, *com1_);
    add_uart(io_, "com2", x86::com2_port, *com2_);
    add_legacy_ports(io_, [this](x86::acpi::PowerRequest r) {
        stop_.request(r == x86::acpi::PowerRequest::power_off ? StopReason::power_off : StopReason::reset);
    });
    mmio_.add({x86::boot_timer_address, x86::boot_timer_size},
              BusDevice{"boot-timer", &devices::BootTimer::read,
                        [t = &boot_timer_](std::uint64_t off, byte_view d) { t->write(off, d); }});
    mmio_.add(window.window, BusDevice{window.name,
                                       [t = transport_.get()](std::uint64_t off, mutable_byte_view d) { t->read(off, d); },
                                       [t = transport_.get()](std::uint64_t off, byte_view d) { t->write(off, d); }});

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
