#include "command_group.hpp"

#include <signal.h>

namespace ktstr::init {

void CommandGroup::started(pid_t pid) noexcept {
    std::lock_guard lk(mutex_);
    pid_ = pid;
    finished_ = false;
    if (kill_requested_)
        signal_locked();
}

void CommandGroup::finished() noexcept {
    std::lock_guard lk(mutex_);
    finished_ = true;
}

void CommandGroup::kill() noexcept {
    std::lock_guard lk(mutex_);
    kill_requested_ = true;
    signal_locked();
}

void CommandGroup::signal_locked() const noexcept {
    if (pid_ <= 0 || finished_)
        return;
    // The group takes its descendants; the pid itself covers the moment
    // before its setsid(), when the group does not exist yet.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
}

}  // namespace ktstr::init
