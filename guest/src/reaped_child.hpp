// A forked child that the fork_churn worker waits for without ever blocking
// for good: its exit is polled in slices (through a pidfd, else waitpid
// WNOHANG), and the caller decides after each slice whether to give up.
// Destroying one that was not reaped kills it and reaps it if that takes
// under 100 ms; otherwise it is left a zombie until this process ends.
#pragma once

#include <sys/types.h>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::guest {

class ReapedChild {
public:
    explicit ReapedChild(pid_t pid) noexcept;
    ReapedChild(const ReapedChild&) = delete;
    ReapedChild& operator=(const ReapedChild&) = delete;
    ~ReapedChild();

    // Waits up to `slice_ms` for the child's exit and reaps it; true once reaped.
    bool wait_slice(int slice_ms) noexcept;

private:
    bool try_reap() noexcept;

    pid_t pid_;
    UniqueFd pidfd_;
    bool reaped_ = false;
};

}  // namespace ktstr::guest
