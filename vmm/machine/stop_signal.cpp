#include "machine/stop_signal.hpp"

namespace ktstr::vmm::machine {

const char* stop_reason_name(StopReason r) noexcept {
    switch (r) {
    case StopReason::power_off: return "power-off";
    case StopReason::reset: return "reset";
    case StopReason::vcpu_failed: return "vCPU failure";
    case StopReason::timeout: return "timeout";
    case StopReason::host_stop: return "host stop";
    }
    return "unknown";
}

void StopSignal::request(StopReason reason, std::string detail) {
    {
        std::lock_guard lock(mutex_);
        if (stop_)
            return;
        stop_ = Stop{reason, std::move(detail)};
    }
    cv_.notify_all();
}

std::optional<Stop> StopSignal::wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    const std::uint64_t wakes = wakes_;
    cv_.wait_until(lock, deadline, [&] { return stop_.has_value() || wakes_ != wakes; });
    return stop_;
}

void StopSignal::wake() {
    {
        std::lock_guard lock(mutex_);
        ++wakes_;
    }
    cv_.notify_all();
}

std::optional<Stop> StopSignal::stopped() const {
    std::lock_guard lock(mutex_);
    return stop_;
}

}  // namespace ktstr::vmm::machine
