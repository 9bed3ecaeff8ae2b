// Machine's lifecycle (machine.hpp), the same on every architecture: the
// run, its deadline and stop, the threads. What the VM is made of is the
// architecture's own (machine_x86_64.cpp, machine_aarch64.cpp).
#include "machine/machine.hpp"

#include <algorithm>
#include <stdexcept>

namespace ktstr::vmm::machine {

using clock = std::chrono::steady_clock;

namespace {

// A 16550 on eight consecutive addresses of `bus` (ports, or MMIO bytes
// with reg-shift 0).
void add_uart(Bus& bus, const char* name, std::uint64_t base, devices::Serial16550& uart) {
    bus.add({base, devices::uart_register_count},
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

void Machine::add_devices(const MachineConfig& config, const DeviceWiring& wiring) {
    com1_irq_ = std::make_unique<kvm::Irqfd>(vm_, wiring.com1_gsi);
    com2_irq_ = std::make_unique<kvm::Irqfd>(vm_, wiring.com2_gsi);
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

    add_uart(*wiring.uart_bus, "com1", wiring.com1_base, *com1_);
    add_uart(*wiring.uart_bus, "com2", wiring.com2_base, *com2_);
    mmio_.add(wiring.boot_timer, BusDevice{"boot-timer", &devices::BootTimer::read,
                                           [t = &boot_timer_](std::uint64_t off, byte_view d) { t->write(off, d); }});
    mmio_.add(window.window, BusDevice{window.name,
                                       [t = transport_.get()](std::uint64_t off, mutable_byte_view d) { t->read(off, d); },
                                       [t = transport_.get()](std::uint64_t off, byte_view d) { t->write(off, d); }});
}

Machine::~Machine() { stop_threads(); }

void Machine::limit_deadline(clock::time_point deadline) {
    const std::int64_t t = deadline.time_since_epoch().count();
    std::int64_t cur = limit_.load();
    while (t < cur && !limit_.compare_exchange_weak(cur, t)) {
    }
    stop_.wake();
}

void Machine::set_deadline(clock::time_point deadline) {
    deadline_.store(deadline.time_since_epoch().count());
    stop_.wake();
}

void Machine::request_stop(std::string detail) { stop_.request(StopReason::host_stop, std::move(detail)); }

Stop Machine::run(clock::time_point deadline, MachineOutputs outputs) {
    if (device_events_ || !vcpu_threads_.empty() || !stop_positions_.empty())
        throw std::logic_error("Machine::run() called twice");
    if (!outputs.com1 || !outputs.com2 || !outputs.console)
        throw std::invalid_argument("Machine::run() needs every output");
    outputs_ = std::move(outputs);
    set_deadline(deadline);
    Stop stop{StopReason::timeout, {}};
    try {
        device_events_ = std::make_unique<DeviceEvents>(event_sources_);
        vcpus_started_ = clock::now();
        for (std::uint32_t i = 0; i < vcpus_.size(); ++i)
            vcpu_threads_.push_back(std::make_unique<VcpuThread>(vcpus_[i], i, VcpuContext{io_, mmio_, stop_}));

        for (;;) {
            const auto limit = clock::time_point(clock::duration(limit_.load()));
            const auto until = std::min(clock::time_point(clock::duration(deadline_.load())), limit);
            if (auto s = stop_.wait_until(until)) {
                stop = *s;
                break;
            }
            if (clock::now() >= until) {
                stop_.request(StopReason::timeout);
                stop = *stop_.stopped();
                break;
            }
        }

        stop_threads();
        // The guest may have kicked a queue the device thread had not served
        // yet: one more pass over every queue, now that nothing runs.
        for (std::uint16_t q = 0; q < console_->queue_count(); ++q)
            (void)transport_->notify(q);  // the guest is stopped: one ring's worth is all it can have left
    } catch (...) {
        stop_threads();  // no thread outlives the outputs it calls
        outputs_ = {};
        throw;
    }
    outputs_ = {};
    return stop;
}

void Machine::stop_threads() noexcept {
    for (auto& t : vcpu_threads_)
        t->request_stop();
    for (auto& t : vcpu_threads_) {
        t->stop();
        exits_ += t->exits();
        stop_positions_.push_back(t->stopped_at());
    }
    vcpu_threads_.clear();
    if (device_events_)
        device_events_->stop();
}

}  // namespace ktstr::vmm::machine
