#include "run/run_verdict.hpp"

#include <fmt/core.h>

#include <ktstr/host/terminal_text.hpp>

namespace ktstr::vmm::run {

using machine::StopReason;

int exit_status_of(std::int32_t code) noexcept {
    return static_cast<int>(static_cast<std::uint32_t>(code) & 0xffu);
}

RunVerdict decide_run_verdict(const RunEvidence& e) {
    if (e.scheduler_failure != SchedulerFailure::none) {
        const int status = e.scheduler_failure == SchedulerFailure::ejected ? exit_sched_exit
                           : e.scheduler_failure == SchedulerFailure::exited ? exit_scheduler_exited
                                                                              : exit_scheduler_never_attached;
        return {status, fmt::format("{} (exit status {})", e.scheduler_line, status)};
    }
    if (e.exit_frame)
        return {exit_status_of(*e.exit_frame), {}};
    if (e.exec_exit_frame)
        return {exit_status_of(*e.exec_exit_frame), {}};
    if (e.com2_exit)
        return {*e.com2_exit & 0xff, {}};
    if (e.stop.reason == StopReason::host_stop && e.sched_exit)
        return {exit_sched_exit,
                fmt::format("scheduler exit: the guest's scheduler exited with code {}; the VM was stopped "
                            "(exit status {})",
                            *e.sched_exit, exit_sched_exit)};
    if (e.panic_line)
        // Guest text (the console): escaped, so the line stays the host's.
        return {exit_kernel_panic, fmt::format("guest kernel panic: {} (exit status {})",
                                               host::terminal_line(*e.panic_line), exit_kernel_panic)};
    switch (e.stop.reason) {
    case StopReason::timeout:
        if (e.command_started)
            return {exit_timeout, fmt::format("timeout: the command did not finish within {} s of its start "
                                              "(exit status {})",
                                              e.timeout.count(), exit_timeout)};
        return {exit_timeout, fmt::format("timeout: the guest did not start the command within the boot "
                                          "timeout of {} s (exit status {})",
                                          e.boot_timeout.count(), exit_timeout)};
    case StopReason::vcpu_failed:
        return {exit_vmm_failure, fmt::format("VMM failure: {} (exit status {})", e.stop.detail, exit_vmm_failure)};
    case StopReason::host_stop:
        return {exit_vmm_failure, fmt::format("VMM failure: the host stopped the VM{} (exit status {})",
                                              e.stop.detail.empty() ? "" : ": " + e.stop.detail, exit_vmm_failure)};
    case StopReason::power_off:
    case StopReason::reset:
        break;
    }
    std::string what = fmt::format("boot failure: the guest {} without reporting an exit status",
                                   e.stop.reason == StopReason::power_off ? "powered off" : "reset");
    if (!e.stop.detail.empty())
        what += fmt::format(" ({})", e.stop.detail);
    if (!e.last_console_line.empty())
        what += fmt::format("; last console line: {}", host::terminal_line(e.last_console_line));
    return {exit_boot_failure, fmt::format("{} (exit status {})", what, exit_boot_failure)};
}

}  // namespace ktstr::vmm::run
