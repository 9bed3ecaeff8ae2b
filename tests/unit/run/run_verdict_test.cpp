#include <catch2/catch.hpp>

#include "run/run_verdict.hpp"

using namespace ktstr::vmm::run;
using ktstr::vmm::machine::StopReason;

namespace {
RunEvidence powered_off() {
    RunEvidence e;
    e.stop = {StopReason::power_off, {}};
    e.timeout = std::chrono::seconds(60);
    e.boot_timeout = std::chrono::seconds(300);
    return e;
}
}  // namespace

TEST_CASE("the guest's exit code comes from Exit, then ExecExit, then COM2") {
    auto e = powered_off();
    e.com2_exit = 3;
    CHECK(decide_run_verdict(e).status == 3);
    CHECK(decide_run_verdict(e).reason.empty());
    e.exec_exit_frame = 4;
    CHECK(decide_run_verdict(e).status == 4);
    e.exit_frame = 5;
    CHECK(decide_run_verdict(e).status == 5);
    e.exit_frame = -1;
    CHECK(decide_run_verdict(e).status == 255);
    e.exit_frame = 256 + 7;
    CHECK(decide_run_verdict(e).status == 7);
}

TEST_CASE("an exit code wins over a later timeout or panic") {
    auto e = powered_off();
    e.stop = {StopReason::timeout, {}};
    e.panic_line = "Kernel panic - not syncing: x";
    e.exit_frame = 0;
    CHECK(decide_run_verdict(e).status == 0);
}

TEST_CASE("without an exit code: panic, timeout, VMM failure, boot failure") {
    auto e = powered_off();
    e.stop = {StopReason::reset, {}};
    e.panic_line = "Kernel panic - not syncing: sysrq triggered crash";
    auto v = decide_run_verdict(e);
    CHECK(v.status == exit_kernel_panic);
    CHECK(v.reason == "guest kernel panic: Kernel panic - not syncing: sysrq triggered crash (exit status 241)");

    e.panic_line.reset();
    e.stop = {StopReason::timeout, {}};
    v = decide_run_verdict(e);
    CHECK(v.status == exit_timeout);
    CHECK(v.reason == "timeout: the guest did not start the command within the boot timeout of 300 s "
                      "(exit status 240)");
    e.command_started = true;
    v = decide_run_verdict(e);
    CHECK(v.status == exit_timeout);
    CHECK(v.reason == "timeout: the command did not finish within 60 s of its start (exit status 240)");

    e.stop = {StopReason::vcpu_failed, "vCPU 0: KVM internal error, suberror 1"};
    v = decide_run_verdict(e);
    CHECK(v.status == exit_vmm_failure);
    CHECK(v.reason.find("suberror 1") != std::string::npos);

    e.stop = {StopReason::power_off, {}};
    e.last_console_line = "ktstr-init: error: /dev/vport0p1 did not appear";
    v = decide_run_verdict(e);
    CHECK(v.status == exit_boot_failure);
    CHECK(v.reason == "boot failure: the guest powered off without reporting an exit status; last console line: "
                      "ktstr-init: error: /dev/vport0p1 did not appear (exit status 242)");
    CHECK(v.reason.find('\n') == std::string::npos);
}

TEST_CASE("a SchedExit that stopped the VM: 244 unless the command's status arrived first") {
    auto e = powered_off();
    e.stop = {StopReason::host_stop, "SchedExit"};
    e.sched_exit = -3;
    auto v = decide_run_verdict(e);
    CHECK(v.status == exit_sched_exit);
    CHECK(v.reason == "scheduler exit: the guest's scheduler exited with code -3; the VM was stopped (exit status 244)");

    e.exit_frame = 0;
    CHECK(decide_run_verdict(e).status == 0);

    // A SchedExit that did not stop the VM (the guest powered off first)
    // changes nothing.
    e = powered_off();
    e.sched_exit = 1;
    e.com2_exit = 9;
    CHECK(decide_run_verdict(e).status == 9);

    // A host stop without a SchedExit is the VMM's own doing.
    e = powered_off();
    e.stop = {StopReason::host_stop, {}};
    CHECK(decide_run_verdict(e).status == exit_vmm_failure);
}

TEST_CASE("a scheduler's failure: 244 ejected, 245 exited, 246 never attached, even over the command's status") {
    auto e = powered_off();
    e.stop = {StopReason::host_stop, "SchedExit"};
    e.sched_exit = 1026;
    e.scheduler_failure = SchedulerFailure::ejected;
    e.scheduler_line = "scheduler scx_qmap was ejected after 3.2 s (ERROR_STALL, kind 1026): runnable task stall";
    auto v = decide_run_verdict(e);
    CHECK(v.status == exit_sched_exit);
    CHECK(v.reason == "scheduler scx_qmap was ejected after 3.2 s (ERROR_STALL, kind 1026): runnable task stall "
                      "(exit status 244)");
    // The command's Exit frame (which a guest sends after the fate) does not hide it.
    e.exit_frame = 0;
    CHECK(decide_run_verdict(e).status == exit_sched_exit);
    e.scheduler_failure = SchedulerFailure::exited;
    CHECK(decide_run_verdict(e).status == exit_scheduler_exited);
    e.scheduler_failure = SchedulerFailure::never_attached;
    CHECK(decide_run_verdict(e).status == exit_scheduler_never_attached);
    e.scheduler_failure = SchedulerFailure::none;
    CHECK(decide_run_verdict(e).status == 0);
}

TEST_CASE("guest text in a verdict line (the panic line, the last console line) is escaped") {
    auto e = powered_off();
    e.panic_line = "Kernel panic - not syncing: \x1b[2J\x1b]0;title\x07";
    auto v = decide_run_verdict(e);
    CHECK(v.reason == "guest kernel panic: Kernel panic - not syncing: \\x1b[2J\\x1b]0;title\\x07 (exit status 241)");
    e.panic_line.reset();
    e.last_console_line = std::string("\x9b") + "31m" + std::string(5000, 'x');
    v = decide_run_verdict(e);
    CHECK(v.reason.find('\x9b') == std::string::npos);
    CHECK(v.reason.find("; last console line: \\x9b31mxxx") != std::string::npos);
    CHECK(v.reason.find("bytes more) (exit status 242)") != std::string::npos);
    CHECK(v.reason.size() < 1300);
}
