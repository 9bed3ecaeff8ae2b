// SysRq-D and the kernel log that follows it, sent to the host as Dmesg
// frames: what the host's dump request (the ring's dump byte, handled by
// the control poller) and a scheduler's death both produce. Open a
// KernelLog before the trigger, then collect from it. With a BPF scheduler attached (or
// being enabled), SysRq-D makes sched_ext dump its state into the kernel
// log; otherwise it dumps the held locks.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "ktstr/guest/dump_trace.hpp"
#include "ktstr/guest/kernel_log.hpp"

namespace ktstr::guest {

// How long and how much of the kernel log to collect after a trigger.
struct KernelLogLimits {
    std::chrono::milliseconds quiet{300};   // done once no record came for this long
    std::chrono::milliseconds total{3000};  // done after this long in any case
    std::size_t max_bytes = 1 << 20;        // done once this much text was collected
    std::chrono::milliseconds poll{10};     // between reads
};

// Writes "D" to paths().sysrq_trigger. False, with a warning, when it
// cannot be written.
bool trigger_sysrq_dump();

// Reads records from `log` until one of `limits` ends the collection and
// returns them as dmesg lines. A closed log returns "" at once. At most
// max_bytes of records: the first record that would cross it ends the
// collection, and one last line says that the rest was not sent.
std::string collect_kernel_log(KernelLog& log, const KernelLogLimits& limits = {});

// The sched_ext dump lines `trace` holds now (dump_trace.hpp: in 6.12 a
// SysRq-D dump goes only there), each behind "sched_ext_dump: ", at most
// `max_bytes`; "" when there are none. Read it after the trigger: the
// kernel writes the event while handling the write to sysrq-trigger.
std::string collect_dump_trace(DumpTrace& trace, std::size_t max_bytes = 1 << 20);

// Sends `text` as Dmesg frames (send_chunked). Returns how many frames
// were not written.
std::size_t send_dmesg_text(std::string_view text);

}  // namespace ktstr::guest
