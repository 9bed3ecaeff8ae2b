// What the kernel logs when it disables a BPF scheduler (Linux 6.12,
// scx_ops_disable_workfn):
//
//   sched_ext: BPF scheduler "NAME" disabled (REASON)
//   sched_ext: NAME: MESSAGE           only for error kinds, when the
//                                      scheduler left a message
//   (a backtrace, for error kinds)
//
// REASON is one of the kernel's exit reasons (ktstr/common/scx_exit_kind.hpp);
// the disable line comes before the scheduler's own ops.exit, so it is in
// the log before the scheduler's user space can notice and exit. Pure:
// these functions read only the text they are given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ktstr/guest/kmsg_record.hpp"

namespace ktstr::guest {

struct SchedExtDisable {
    std::string ops;        // NAME
    std::string reason;     // REASON, as logged
    int kind = 0;           // REASON's exit kind; scx::exit_error for a reason we do not know
    bool known_reason = false;
    std::string message;    // MESSAGE of the next "sched_ext: NAME: " line; empty if none (yet)

    // "REASON (MESSAGE)", or "REASON" without a message: a fate's text.
    std::string describe() const;
};

// The disable line's NAME and REASON (kind and known_reason set, message
// empty); nullopt for any other text.
std::optional<SchedExtDisable> parse_disable_line(std::string_view text);

// MESSAGE when `text` is "sched_ext: <ops>: MESSAGE"; nullopt otherwise.
std::optional<std::string_view> parse_disable_message(std::string_view text, std::string_view ops);

// Follows the kernel log for the first disable of a BPF scheduler and its
// message. Feed it records in log order.
class SchedExtLogScanner {
public:
    void feed(const KmsgRecord& r);
    // The first disable seen since construction or reset(), with its
    // message once the message line came.
    const std::optional<SchedExtDisable>& disable() const noexcept { return disable_; }
    void reset() noexcept { disable_.reset(); message_done_ = false; }

private:
    std::optional<SchedExtDisable> disable_;
    bool message_done_ = false;
};

}  // namespace ktstr::guest
