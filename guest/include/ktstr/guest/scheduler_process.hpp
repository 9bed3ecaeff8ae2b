// A scheduler program running as a child of this process: its stdout and
// stderr share one pipe, forwarded as SchedLog frames (and echoed) by an
// OutputForwarder that also keeps the latest output for reports; a pidfd
// names it for signals and polling without any risk of PID reuse.
//
// Its exit status reaches us whoever reaps children: the program runs
// under a small supervisor process (a forked copy of this one that runs
// no code but fork, waitpid, write and _exit), which reaps it and writes
// the status into a pipe. A PID 1 that reaps every orphan with
// waitpid(-1) (ktstr-init, while its command runs) may reap the
// supervisor; the status is in the pipe by then.
//
// The program runs in its own session (a process-group kill of the
// command does not reach it), stdin /dev/null, every signal disposition
// default and none blocked. Needs Linux 5.9 (pidfd_open, close_range).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ktstr/common/unique_fd.hpp"
#include "ktstr/guest/output_forwarder.hpp"

namespace ktstr::guest {

// How a process ended: one of status and signal is set; neither when the
// supervisor died before it could say (it was killed itself).
struct ProcessExit {
    std::optional<int> status;  // exit status 0..255
    std::optional<int> signal;  // the signal that killed it

    friend bool operator==(const ProcessExit&, const ProcessExit&) = default;
};

class SchedulerProcess {
public:
    struct Options {
        // The file to execute; empty: argv[0] as it is (no PATH search).
        std::string executable;
        std::vector<std::string> argv;  // argv[0] first; not empty
        std::vector<std::string> env;   // NAME=value entries, the whole environment
        int echo_fd = -1;               // echo its output here (the console); -1: no echo. Not owned.
        bool send_frames = true;        // SchedLog frames (false: no bulk port)
        std::size_t keep_output = 64 * 1024;  // the latest output kept for output_tail()
    };

    // Starts it. Throws std::invalid_argument for an empty argv and
    // std::system_error when a pipe or fork fails. A program that cannot
    // be executed is no error here: the child writes why on its output
    // and exits 127 (not found) or 126 (any other exec failure), as a
    // shell does.
    explicit SchedulerProcess(Options options);
    SchedulerProcess(const SchedulerProcess&) = delete;
    SchedulerProcess& operator=(const SchedulerProcess&) = delete;
    // SIGKILL if it still runs, waits for its exit (at most 5 s), reaps
    // the supervisor, stops forwarding.
    ~SchedulerProcess();

    pid_t pid() const noexcept { return pid_; }
    // Readable (POLLIN) once it exited; -1 only on a kernel without
    // pidfd_open (then signals cannot be sent). The supervisor reaps the
    // program only after this was opened, so it never names another
    // process. Owned by this object.
    int pidfd() const noexcept { return pidfd_.get(); }
    // Readable once its exit status is known (or the supervisor died):
    // poll it with pidfd(). Owned by this object.
    int exit_fd() const noexcept { return status_read_.get(); }

    // Its exit, if it has exited and the status arrived; never blocks.
    std::optional<ProcessExit> poll_exit();
    // Waits up to `timeout` for its exit.
    std::optional<ProcessExit> wait_exit(std::chrono::milliseconds timeout);

    // Sends `sig` (through the pidfd). False when it has exited or the
    // signal could not be sent.
    bool send_signal(int sig);

    // Asks it to stop (SIGINT, what a BPF scheduler takes as "detach and
    // exit"), waits up to `grace`, then SIGKILL and waits up to 5 s more.
    // Its exit; nullopt only when it is stuck even after SIGKILL.
    std::optional<ProcessExit> stop(std::chrono::milliseconds grace);

    // Waits up to `grace` for its output to end (it and whatever it
    // started closed the pipe), then stops forwarding: every SchedLog
    // frame it will ever produce has been sent when this returns.
    void finish_output(std::chrono::milliseconds grace);

    // The latest Options::keep_output bytes of its output.
    std::string output_tail() const { return forwarder_->tail(); }

private:
    void reap_supervisor() noexcept;

    pid_t pid_ = -1;             // the program
    pid_t supervisor_pid_ = -1;
    UniqueFd pidfd_;             // the program's
    UniqueFd supervisor_pidfd_;
    UniqueFd status_read_;       // the supervisor's reports
    std::optional<ProcessExit> exit_;
    bool status_pipe_done_ = false;  // the status arrived, or the pipe ended without it
    bool supervisor_reaped_ = false;
    std::optional<OutputForwarder> forwarder_;
};

}  // namespace ktstr::guest
