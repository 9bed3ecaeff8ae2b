// Why and when the VM stops: the first reason reported wins, later ones
// are ignored. Reported from vCPU threads (power-off, reset, a vCPU
// failure) or the console watcher (a panic line); the thread that runs the
// VM waits for it with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

namespace ktstr::vmm::machine {

enum class StopReason {
    power_off,    // ACPI S5 through the sleep control register
    reset,        // ACPI reset register, keyboard controller reset, triple fault
    vcpu_failed,  // KVM could not run a vCPU or met an exit it cannot handle
    timeout,      // the deadline passed first
    host_stop,    // the host asked (the guest's scheduler exited: SchedExit)
};

const char* stop_reason_name(StopReason r) noexcept;

struct Stop {
    StopReason reason;
    std::string detail;  // one line, may be empty
};

class StopSignal {
public:
    // Records the reason if none is recorded yet; wakes the waiter.
    void request(StopReason reason, std::string detail = {});

    // Waits until a reason is recorded (returned), `deadline` passes or
    // wake() is called (both nullopt: the caller decides what follows).
    std::optional<Stop> wait_until(std::chrono::steady_clock::time_point deadline);
    // Ends the current wait_until early without a reason (e.g. a deadline
    // changed).
    void wake();

    // The recorded reason, if any.
    std::optional<Stop> stopped() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<Stop> stop_;
    std::uint64_t wakes_ = 0;
};

}  // namespace ktstr::vmm::machine
