// The sched_ext dump as Linux 6.12 emits it on SysRq-D: lines of the
// `sched_ext:sched_ext_dump` trace event. kernel/sched/ext.c's dump_line()
// writes each line to that event and, only when given one, to a buffer:
// an ejection's dump goes into the scheduler's exit info (the scheduler
// prints it), but SysRq-D has no buffer, so the event is the only place
// its dump appears. The kernel log gets none of it.
//
// DumpTrace enables the event (<paths().tracing>/events/sched_ext/
// sched_ext_dump/enable): from then on the trace buffer keeps every dump.
// Enable it before the dump (at a scheduler's start, or before SysRq-D).
// Each read opens <paths().tracing>/trace_pipe without blocking, takes
// what is there and closes it again: the kernel lets one reader hold
// trace_pipe at a time (EBUSY for the next), and the scheduler's watcher
// and the host's dump request may both want it, so it is never held
// between reads; a read that finds it busy retries a few times. Reading
// consumes: a line is read once. Lines of other events are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::guest {

class DumpTrace {
public:
    DumpTrace() = default;  // closed: reads return nothing
    DumpTrace(DumpTrace&&) noexcept = default;
    DumpTrace& operator=(DumpTrace&&) noexcept = default;

    // Enables the event. Without tracefs or the event (a kernel without
    // sched_ext or tracing) it stays closed; error() says why, and nothing
    // is warned: most kernels ktstr boots have no sched_ext.
    static DumpTrace open();

    bool is_open() const noexcept { return !pipe_.empty(); }
    const std::string& error() const noexcept { return error_; }

    // Appends the dump lines the pipe holds now, each behind `prefix`
    // ("CPU states\n", ...) to `out`, reading at most about `max_bytes` of
    // the pipe; returns how
    // many lines were appended. A line longer than max_line is cut; a
    // last line without its end is dropped. Busy for 20 tries 50 ms apart
    // (another reader): nothing, and error() says so.
    std::size_t read_available(std::string& out, std::size_t max_bytes = 1 << 20, std::string_view prefix = {});

    static constexpr std::size_t max_line = 4096;

private:
    std::string pipe_;  // trace_pipe's path; empty: closed
    std::string error_;
};

// The dump text of one trace_pipe line ("  sh-36  [001] dN... 11.41: sched_ext_dump: CPU states"
// -> "CPU states"); nullopt for a line of another event. Pure.
std::optional<std::string_view> dump_line_of(std::string_view trace_line);

}  // namespace ktstr::guest
