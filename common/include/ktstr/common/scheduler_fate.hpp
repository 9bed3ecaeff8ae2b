// The fate record: what became of the guest's sched_ext scheduler, as
// text in the reason of a Lifecycle frame. A wire contract between the
// guest (ktstr::guest's Scheduler formats it) and the host (parses it);
// docs/wire-format.md describes it too.
//
// Format (UTF-8): key=value tokens separated by single spaces, `fate`
// first; values never contain a space. Optionally followed by " | " and
// free text, which runs to the end of the reason and may contain
// anything (newlines included):
//
//   fate=attached program=scx_simple ops=simple attached_ms=1234
//   fate=ejected kind=1026 status=0 program=scx_qmap ops=qmap state=disabled after_ms=5210 | runnable task stall (init[59] failed to run for 6.741s)
//   fate=exited signal=11 program=scx_simple ops=simple state=disabled after_ms=80
//   fate=never_attached status=1 program=scx_simple state=disabled | libbpf: failed to load ...
//   fate=never_attached program=scx_simple state=enabling timeout_ms=12000 | <last output lines>
//
// Keys: fate (attached | ejected | exited | never_attached), kind (the
// scx exit kind, scx_exit_kind.hpp), status (exit status), signal (the
// signal that killed it), attached_ms (from start to attach), after_ms
// (from attach to its death), timeout_ms (the attach timeout that
// passed), state (/sys/kernel/sched_ext/state), ops (root/ops, the
// scheduler's name), program (basename of its argv[0]). Every key but
// fate is optional. Free text: for `ejected`, "REASON (MESSAGE)" as the
// kernel logged them ("REASON" alone without a message); for
// `never_attached`, the last lines of the scheduler's output.
//
// A Lifecycle reason is a fate record only when it starts with "fate=":
// the command's PayloadStarting (reason: its argv[0]) and the scheduler's
// attach record (PayloadStarting, fate=attached) are told apart that way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ktstr/common/payloads.hpp"

namespace ktstr {

// The longest record parse_fate accepts and format_fate writes.
inline constexpr std::size_t max_fate_record = 4096;
// format_fate cuts each of state, ops and program to this many bytes.
inline constexpr std::size_t max_fate_value = 256;

struct SchedulerFate {
    enum class Kind { attached, ejected, exited, never_attached };

    Kind fate = Kind::attached;
    std::optional<int> kind;
    std::optional<int> status;
    std::optional<int> signal;
    std::optional<std::uint64_t> attached_ms;
    std::optional<std::uint64_t> after_ms;
    std::optional<std::uint64_t> timeout_ms;
    std::string state;    // empty: not given
    std::string ops;      // empty: not given
    std::string program;  // empty: not given
    std::string text;     // the free text; empty: none

    friend bool operator==(const SchedulerFate&, const SchedulerFate&) = default;
};

// "attached", "ejected", "exited", "never_attached".
std::string_view fate_name(SchedulerFate::Kind k) noexcept;
std::optional<SchedulerFate::Kind> fate_from_name(std::string_view name) noexcept;

// The record for `f`, at most max_fate_record bytes of valid UTF-8. Keys
// in the order of the struct; empty strings and absent numbers are left
// out. Values are made safe: invalid UTF-8 becomes U+FFFD, every ASCII
// space or control character '_', and each is cut (at a character
// boundary) to max_fate_value bytes. The free text is repaired the same
// way (control characters kept) and cut at a character boundary so that
// the whole record fits.
std::string format_fate(const SchedulerFate& f);

// The record in `reason`, or nullopt when it is not one: longer than
// max_fate_record, not starting with "fate=", an unknown fate value, a
// token that is not key=value, an empty token (two spaces in a row, a
// trailing space), a known key given twice, or a number that is not a
// plain decimal in range (int for kind, status, signal; unsigned 64-bit
// for the *_ms keys). Unknown keys are skipped, so that the guest may add
// keys. Pure; reads nothing past `reason`.
std::optional<SchedulerFate> parse_fate(std::string_view reason);

// The code the guest sends in SchedExit for a fate: the kind when ejected
// (scx::exit_error when the record has none), the exit status when it
// exited or never attached, 128 + the signal when a signal killed it, and
// -1 for a scheduler that never attached within its timeout (or a fate
// with nothing to go by). 0 for `attached`, which is not an end.
std::int32_t sched_exit_code(const SchedulerFate& f) noexcept;

// The Lifecycle phase a fate is reported with: PayloadStarting for
// attached, SchedulerDied for ejected and exited, SchedulerNotAttached for
// never_attached.
LifecyclePhase lifecycle_phase_of(SchedulerFate::Kind k) noexcept;

}  // namespace ktstr
