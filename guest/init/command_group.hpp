// The running command, as a thread other than the one running it sees it:
// the scheduler watcher ends the command when the scheduler dies. The
// command may not have started yet, or have started without having made
// its own session yet (setsid() runs in the child after the fork), so
// kill() signals both its process group and the process itself, and a
// kill() that comes first is carried out as soon as it starts.
#pragma once

#include <sys/types.h>

#include <mutex>

namespace ktstr::init {

class CommandGroup {
public:
    // The command was forked (RunOptions::on_started).
    void started(pid_t pid) noexcept;
    // The command was reaped: its pid may be reused, later kills do nothing.
    void finished() noexcept;
    // SIGKILL to the command and its process group, now or when it starts.
    void kill() noexcept;

private:
    void signal_locked() const noexcept;

    mutable std::mutex mutex_;
    pid_t pid_ = 0;
    bool finished_ = false;
    bool kill_requested_ = false;
};

}  // namespace ktstr::init
