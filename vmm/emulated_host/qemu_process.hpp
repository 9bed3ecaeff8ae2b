// Runs the emulated host's QEMU to completion: spawns it with a pipe per
// serial line and a socket pair for the data port (qemu_command.hpp),
// streams the inner command's stdout and stderr to ours as they arrive,
// receives the output files and acknowledges the end of the return
// stream, reads the exit line from COM2, and enforces the timeout: at the
// timeout it first asks QEMU's monitor for the outer CPUs' registers
// (qemu_monitor.hpp), waiting at most monitor_wait for the answer, then
// kills QEMU.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "emulated_host/qemu_command.hpp"
#include "emulated_host/return_stream.hpp"

namespace ktstr::vmm::emulated_host {

struct QemuRunOptions {
    QemuPlan plan;
    std::chrono::milliseconds timeout{120000};          // from spawn to QEMU's exit
    std::chrono::milliseconds exit_grace{5000};         // after the exit line, for QEMU to power off
    std::chrono::milliseconds monitor_wait{3000};       // at the timeout, for the monitor's answer
    bool verbose = false;                               // COM1 and QEMU's stderr to our stderr, live
    ReturnOutputs outputs;                              // what the return stream may write
    int stdout_fd = 1;                                  // where the inner stdout goes
    int stderr_fd = 2;                                  // where the inner stderr (and messages) go
};

struct QemuRunResult {
    std::optional<int> exit_code;          // from "KTSTR_EXIT=N" on COM2
    bool timed_out = false;                // killed at the timeout
    // At the timeout: whether cpu_state_query could be sent, the monitor's
    // answer (bounded by monitor_reply_max; empty when QEMU did not answer
    // in monitor_wait), and whether QEMU ended by itself while we waited.
    bool monitor_asked = false;
    std::string monitor_reply;
    bool ended_during_query = false;
    bool killed_after_exit_line = false;   // did not power off within exit_grace
    int qemu_status = 0;                   // QEMU's wait status
    std::string console_tail;              // the last bytes of COM1 (kernel console, ktstr-init)
    std::string qemu_stderr;               // the first bytes of QEMU's own stderr
    std::optional<std::string> output_error;
    bool inner_output = false;             // any stdout or stderr byte of the inner command arrived
    std::chrono::milliseconds elapsed{0};
};

// Throws std::runtime_error when QEMU cannot be started at all.
QemuRunResult run_qemu(const QemuRunOptions& options);

}  // namespace ktstr::vmm::emulated_host
