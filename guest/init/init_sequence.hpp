// ktstr-init's sequence from the first mount to the final COM2 line; the
// power-off is main's. Split from main so that a host process can run
// everything but the PID-1 steps.
#pragma once

#include <chrono>

namespace ktstr::init {

struct InitSetup {
    bool pid1 = true;  // mount filesystems, set up the console, reap orphans
    int console_fd = 1;
    std::chrono::milliseconds output_grace{2000};
};

// Runs the sequence of docs/guest.md and returns the exit code it
// reported (also in the Exit frame and the "KTSTR_EXIT=N" COM2 line).
int run_init(const InitSetup& setup);

}  // namespace ktstr::init
