// The exit kinds of a sched_ext BPF scheduler: the kernel's
// enum scx_exit_kind (Linux 6.12, kernel/sched/ext.c) with the names of
// its constants and the reason text the kernel logs for each in
//   sched_ext: BPF scheduler "NAME" disabled (REASON)
// The guest maps a logged REASON back to its kind; the host names a kind
// it received (SchedExit, a fate record's kind=). One table for both, so
// the two sides cannot disagree.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace ktstr::scx {

inline constexpr int exit_none = 0;
inline constexpr int exit_done = 1;
inline constexpr int exit_unreg = 64;         // the scheduler unregistered itself (user space)
inline constexpr int exit_unreg_bpf = 65;     // its BPF code called scx_bpf_exit()
inline constexpr int exit_unreg_kern = 66;    // the kernel unregistered it
inline constexpr int exit_sysrq = 67;         // SysRq-S
inline constexpr int exit_error = 1024;       // runtime error (and every reason we do not know)
inline constexpr int exit_error_bpf = 1025;   // its BPF code called scx_bpf_error()
inline constexpr int exit_error_stall = 1026; // the watchdog saw a runnable task stall

struct ExitKindInfo {
    int kind;
    std::string_view name;    // the constant without SCX_EXIT_: "ERROR_STALL"
    std::string_view reason;  // what the kernel logs; empty for NONE and DONE, which it never logs
};

// Every kind above, in increasing order.
std::span<const ExitKindInfo> exit_kinds() noexcept;

// "ERROR_BPF" for 1025; "UNKNOWN" for a value not in the table.
std::string_view kind_name(int kind) noexcept;

// The logged reason of `kind` ("runnable task stall" for 1026); empty for
// NONE, DONE and unknown values.
std::string_view kind_reason(int kind) noexcept;

// The kind whose logged reason is exactly `reason`; nullopt for any other
// text (the caller decides: the guest reports an unknown reason as
// exit_error with the text kept).
std::optional<int> kind_of_reason(std::string_view reason) noexcept;

// Kinds from exit_error up are errors: the kernel logs them at error
// level, followed by the scheduler's message when it left one.
constexpr bool is_error_kind(int kind) noexcept { return kind >= exit_error; }

}  // namespace ktstr::scx
