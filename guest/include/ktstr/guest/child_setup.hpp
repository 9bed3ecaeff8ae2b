// What a forked child does to itself before execve: the state a program
// expects to start in, whatever the parent had.
#pragma once

#include <string>
#include <vector>

namespace ktstr::guest {

// argv/envp for execve: pointers into `v` (which must outlive the result),
// then the terminating null. Made in the parent, before fork.
std::vector<char*> exec_strings(const std::vector<std::string>& v);

// Runs in a forked child only, between fork and execve; async-signal-safe
// (the parent may have threads), so it allocates nothing and never throws.
// Starts a new session, puts every signal but SIGKILL and SIGSTOP (1 to
// NSIG - 1) back to SIG_DFL, empties the signal mask, reads stdin from
// /dev/null (or closes it when /dev/null will not open), and makes out_fd
// stdout and err_fd stderr (both may be the same descriptor). Errors are
// ignored: the C library's reserved signals refuse SIG_DFL, harmlessly.
void setup_exec_child(int out_fd, int err_fd) noexcept;

}  // namespace ktstr::guest
