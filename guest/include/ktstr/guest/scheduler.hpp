// The lifecycle of a sched_ext BPF scheduler in the guest: start it, wait
// until sched_ext runs it, watch it while the test runs, and, when it dies
// or the kernel ejects it, tell the host what happened. ktstr-init drives
// it from /etc/ktstr/scheduler (docs/guest.md); a guest-init author can
// drive it the same way:
//
//   ktstr::guest::Scheduler sched({.argv = {"/bin/scx_simple"}, .env = env});
//   auto fate = sched.wait_for_attach();
//   if (fate.fate != SchedulerFate::Kind::attached) {
//       sched.report(fate);                    // Dmesg, SchedLog, Lifecycle, SchedExit
//       return ...;
//   }
//   ktstr::guest::send_fate(fate);             // Lifecycle(PayloadStarting, "fate=attached ...")
//   sched.watch([&](const SchedulerFate& f) { sched.report(f); kill_the_test(); });
//   run_the_test();
//   if (auto died = sched.stop_watching()) ...  // reported already
//   else sched.stop();                         // detach cleanly, nothing sent
//
// What it reads (paths()): <sched_ext>/state and <sched_ext>/root/ops for
// the attach and for the state leaving `enabled`; the kernel log (kmsg),
// opened at its end before the program starts, for the kernel's
// "sched_ext: BPF scheduler "NAME" disabled (REASON)" line and the message
// after it (sched_ext_log.hpp); the program's exit through its pidfd and
// its supervisor (scheduler_process.hpp). Its exit status cannot tell an
// ejection: scx_simple and scx_qmap exit 0 after one.
//
// The watcher's verdict (ktstr/common/scheduler_fate.hpp), whichever sign
// comes first; a fate is reported only once it is complete:
//  - the kernel logged a disable of any kind but UNREG: ejected, complete
//    once the program exited (its status joins the record, its "EXIT: ..."
//    output the report) or exit_grace passed; text "REASON (MESSAGE)".
//    The kernel logs the line before the program can notice, so an exit
//    seen first has its line in the log already, if it has one;
//  - the program exited with no such line: exited (status or signal). An
//    UNREG line is the kernel's record of the program's own unregister
//    (its exit closes the link), so it makes no ejection; if the program
//    unregistered and still runs after exit_grace: ejected, kind UNREG;
//  - the state left `enabled` while the program runs and no line came
//    within kmsg_grace: ejected, kind ERROR, the text says so.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "ktstr/guest/kernel_dump.hpp"
#include "ktstr/guest/kernel_log.hpp"
#include "ktstr/guest/sched_ext_log.hpp"
#include "ktstr/guest/scheduler_process.hpp"
#include "ktstr/guest/tail_buffer.hpp"

namespace ktstr::guest {

struct SchedulerOptions {
    std::string executable;          // the file to execute; empty: argv[0] (no PATH search)
    std::vector<std::string> argv;   // argv[0] first; its basename is the fate's `program`
    std::vector<std::string> env;    // the whole environment
    std::chrono::milliseconds attach_timeout{10000};
    std::chrono::milliseconds poll_interval{20};     // sysfs and the kernel log, while waiting and watching
    std::chrono::milliseconds kmsg_grace{2000};      // state left `enabled`: how long to wait for the kernel's line
    std::chrono::milliseconds exit_grace{2000};      // after an ejection: how long to wait for the program to exit
    std::chrono::milliseconds output_grace{2000};    // after it exited: how long to wait for its output to end
    std::chrono::milliseconds stop_grace{2000};      // stop(): SIGINT, then SIGKILL after this
    KernelLogLimits dump;                            // the kernel log collected after SysRq-D in report()
    std::size_t kernel_log_kept = 256 * 1024;        // kernel log since the start, kept for report()
    std::size_t output_kept = 64 * 1024;             // the program's latest output, kept for reports
    std::size_t text_output = 2048;                  // of which a never_attached record quotes its last lines
    int echo_fd = -1;                                // echo its output here; -1: none. Not owned.
    bool send_frames = true;                         // SchedLog frames (false: no bulk port)
};

// ktstr-init's attach timeout: 10 s + 2 s per online CPU (loading and
// verifying a BPF scheduler, then switching every task, takes longer on
// more CPUs).
std::chrono::milliseconds default_attach_timeout(unsigned online_cpus);

// Sends Lifecycle(lifecycle_phase_of(f.fate), format_fate(f)).
bool send_fate(const SchedulerFate& f);

class Scheduler {
public:
    // Opens the kernel log at its end, then starts the program
    // (SchedulerProcess). Throws what SchedulerProcess throws.
    explicit Scheduler(SchedulerOptions options);
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;
    // stop_watching(), then stop() if it still runs. Sends nothing but the
    // rest of its output.
    ~Scheduler();

    // Blocks until sched_ext runs it (fate attached: ops, attached_ms),
    // it exits first (never_attached: status or signal, its output's last
    // lines, once the output ended or output_grace passed), or the timeout
    // passes (never_attached: timeout_ms, the state seen). `kind` is set
    // when the kernel logged a disable meanwhile (ops.init failing, say).
    // Call once.
    SchedulerFate wait_for_attach();

    // Starts the watcher thread (after an attach). `on_death` runs on it
    // once, with the complete fate (ejected or exited); it may call
    // report(). Call once.
    void watch(std::function<void(const SchedulerFate&)> on_death);

    // Stops the watcher and joins it. It makes one last check first, so a
    // death already under way is still judged and reported (on_death has
    // returned when this does). The fate of a death, or nullopt while the
    // scheduler is still attached.
    std::optional<SchedulerFate> stop_watching();

    // What the host gets for a death or a failed attach, in this order:
    // Dmesg (the kernel log since the start, then SysRq-D and what it
    // logs), the rest of the program's output (SchedLog; a program still
    // running is stopped first: stop_grace, then SIGKILL), Lifecycle
    // (SchedulerDied or SchedulerNotAttached, the fate record), SchedExit
    // (sched_exit_code). For never_attached, the text is refreshed with the
    // last lines of the whole output. Returns the fate as sent.
    SchedulerFate report(SchedulerFate fate);

    // Detaches it cleanly: SIGINT, stop_grace, SIGKILL; then the rest of
    // its output is forwarded (SchedLog). Sends nothing else. Its exit.
    std::optional<ProcessExit> stop();

    // The latest output_kept bytes of its output.
    std::string output_tail() const { return process_.output_tail(); }
    pid_t pid() const noexcept { return process_.pid(); }
    const std::string& program() const noexcept { return program_; }

private:
    using clock = std::chrono::steady_clock;

    void read_kernel_log();  // new records into the history and the scanner
    void run_watch();
    void wait_for_events(clock::duration timeout, bool include_process);
    std::string last_output_lines() const;

    SchedulerOptions options_;
    std::string program_;
    KernelLog log_;
    DumpTrace trace_;  // the sched_ext_dump event, enabled at the start (dump_trace.hpp)
    mutable std::mutex log_mutex_;  // log_, history_, scanner_: the watcher and report() share them
    TailBuffer history_;
    SchedExtLogScanner scanner_;
    SchedulerProcess process_;
    clock::time_point started_;
    std::optional<clock::time_point> attached_at_;
    std::string ops_;

    std::function<void(const SchedulerFate&)> on_death_;
    UniqueFd wake_;  // eventfd: stop_watching() wakes the watcher
    std::atomic<bool> stop_requested_{false};
    std::optional<SchedulerFate> death_;  // written by the watcher before it ends
    std::thread watcher_;
};

}  // namespace ktstr::guest
