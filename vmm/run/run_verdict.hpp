// The exit status of `ktstr-vmm run`, from what the run saw.
//
// The guest command's own status wins whenever it arrived: from an Exit
// frame, else an ExecExit frame (either channel, as the host loop's run
// result has them), else COM2's "KTSTR_EXIT=N" line (ktstr-init's fallback
// channel). Without one, the VMM says why with a code of its own, chosen
// outside ktstr-init's 118..128+N range (docs/guest.md) and the emulated
// host's 124/125:
//   240  timeout: --timeout passed after the command started (or
//        --boot-timeout before it started) and the guest had not
//        powered off
//   241  kernel panic: the console showed "Kernel panic - not syncing"
//   242  boot failure: the guest powered off or reset without reporting
//        an exit status
//   243  VMM failure: KVM could not run a vCPU
//   244  scheduler ejected: the kernel disabled the sched_ext scheduler
//        (the guest's fate record says so), or, without a fate record,
//        the guest sent SchedExit and the host stopped the VM early
//   245  scheduler exited: its process ended while the command ran,
//        without an ejection
//   246  scheduler never attached: it exited or timed out before
//        attaching, so the command never ran
// A scheduler's failure wins over the command's status: the guest reports
// it before its Exit frame, and a command that ran without its scheduler
// proves nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "machine/stop_signal.hpp"

namespace ktstr::vmm::run {

inline constexpr int exit_timeout = 240;
inline constexpr int exit_kernel_panic = 241;
inline constexpr int exit_boot_failure = 242;
inline constexpr int exit_vmm_failure = 243;
inline constexpr int exit_sched_exit = 244;
inline constexpr int exit_scheduler_exited = 245;
inline constexpr int exit_scheduler_never_attached = 246;

// How the run's scheduler failed, from the guest's fate record
// (host/scheduler_report.hpp); none: it did not, or there is none.
enum class SchedulerFailure { none, ejected, exited, never_attached };

struct RunEvidence {
    machine::Stop stop{machine::StopReason::timeout, {}};
    std::optional<std::int32_t> exit_frame;       // Exit
    std::optional<std::int32_t> exec_exit_frame;  // ExecExit
    std::optional<std::int32_t> sched_exit;       // SchedExit's code, when it stopped the VM
    SchedulerFailure scheduler_failure = SchedulerFailure::none;
    std::string scheduler_line;                   // the report's one line (escaped already)
    std::optional<int> com2_exit;                 // KTSTR_EXIT=N
    std::optional<std::string> panic_line;
    std::string last_console_line;                // for a boot failure
    std::chrono::seconds timeout{0};       // the command's, from its start
    std::chrono::seconds boot_timeout{0};  // from the run's start until the command starts
    bool command_started = false;          // PayloadStarting arrived
};

struct RunVerdict {
    int status = 0;
    // One line for stderr when the status is the VMM's own; empty when it
    // is the guest command's.
    std::string reason;
};

RunVerdict decide_run_verdict(const RunEvidence& e);

// A guest exit code as a process exit status (0..255): the low 8 bits, as
// a shell would see them.
int exit_status_of(std::int32_t code) noexcept;

}  // namespace ktstr::vmm::run
