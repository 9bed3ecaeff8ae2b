// Machine's lifecycle (machine.hpp), the same on every architecture: the
// run, its deadline and stop, the threads. What the VM is made of is the
// architecture's own (machine_x86_64.cpp, machine_aarch64.cpp).
#include "machine/machine.hpp"

#include <algorithm>
#include <stdexcept>

namespace ktstr::vmm::machine {

using clock = std::chrono::steady_clock;

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
