// Ctrl-C (SIGINT) or SIGTERM during a kernel build: rather than dying
// with the GBs of its object tree left for the next build to remove, the
// build stops the program under way (run_streamed checks requested()),
// unwinds, removes its folder and exits 128 + the signal.
#pragma once

#include <stdexcept>

namespace ktstr::vmm::kernel_build {

// Catches SIGINT and SIGTERM for its life (the old handlers come back
// after). One at a time.
class InterruptionGuard {
public:
    InterruptionGuard();
    ~InterruptionGuard();
    InterruptionGuard(const InterruptionGuard&) = delete;
    InterruptionGuard& operator=(const InterruptionGuard&) = delete;

    // The signal caught since the guard was made, or 0.
    static int requested() noexcept;
};

struct Interrupted : std::runtime_error {
    explicit Interrupted(int s) : std::runtime_error("interrupted"), signal(s) {}
    int signal;
};

// Throws Interrupted when a signal was caught: for FileLock's on_signal
// and between steps.
void throw_if_interrupted();

}  // namespace ktstr::vmm::kernel_build
