// The exit codes ktstr-init reports (in the Exit frame and on the final
// COM2 line) when it cannot report the command's own. Codes below 118
// and 126..255 otherwise belong to the command (128+N: killed by signal N).
#pragma once

namespace ktstr::init::exit_code {

inline constexpr int sched_not_attached = 118;   // the scheduler exited or timed out before attaching
inline constexpr int sched_died = 119;           // the scheduler exited or was ejected while the command ran
inline constexpr int bad_options = 120;          // malformed KTSTR_INIT_* or KTSTR_SCHED_ATTACH_MS on the kernel command line
inline constexpr int mount_failed = 121;         // proc, sys, devtmpfs or /tmp could not be mounted
inline constexpr int module_failed = 122;        // the module list is unreadable or a module did not load
inline constexpr int no_bulk_port = 123;         // KTSTR_GUEST=1 but /dev/vport0p1 never appeared
inline constexpr int bad_command = 124;          // the recorded command (or scheduler) is missing or malformed
inline constexpr int start_failed = 125;         // fork, pipe or similar failed
inline constexpr int not_executable = 126;       // the command exists but cannot be executed
inline constexpr int not_found = 127;            // the command does not exist
inline constexpr int signal_base = 128;          // + signal number

}  // namespace ktstr::init::exit_code
