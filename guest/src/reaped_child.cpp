#include "reaped_child.hpp"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace ktstr::guest {

// The pidfd is opened before the child is reaped, so it cannot name another process.
ReapedChild::ReapedChild(pid_t pid) noexcept
    : pid_(pid), pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {}

ReapedChild::~ReapedChild() {
    if (reaped_)
        return;
    ::kill(pid_, SIGKILL);
    for (int i = 0; i < 10 && !reaped_; ++i)
        wait_slice(10);
}

bool ReapedChild::try_reap() noexcept {
    int status = 0;
    pid_t r;
    do
        r = ::waitpid(pid_, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    // ECHILD: someone else reaped it (a PID 1 reaping every orphan): gone all the same.
    if (r == pid_ || (r < 0 && errno == ECHILD))
        reaped_ = true;
    return reaped_;
}

bool ReapedChild::wait_slice(int slice_ms) noexcept {
    if (reaped_ || try_reap())
        return true;
    if (pidfd_) {
        pollfd p{pidfd_.get(), POLLIN, 0};
        ::poll(&p, 1, slice_ms);
    } else {
        // No pidfd (a kernel before 5.3): look again every 100 us.
        const timespec step{0, 100'000};
        for (int waited_us = 0; waited_us < slice_ms * 1000 && !try_reap(); waited_us += 100)
            ::nanosleep(&step, nullptr);
    }
    return try_reap();
}

}  // namespace ktstr::guest
