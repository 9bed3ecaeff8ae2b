// Crash reporting that never blocks: a CRSH frame into the SHM ring
// through try_write (skipped if another producer holds the ring) and one
// line "KTSTR_CRASH: <text>" on COM2, whose UART write never waits for
// the host.
#pragma once

#include <string_view>

namespace ktstr::guest {

// Opens COM2 and maps the ring now, then installs handlers for SIGSEGV,
// SIGBUS, SIGILL, SIGFPE and SIGABRT (on an alternate stack) and a
// std::terminate handler. Each reports "<program>: fatal signal N (NAME)"
// or "<program>: terminate called" and then dies as it would have.
void install_crash_hook(std::string_view program);

// Reports `text` as above. Async-signal-safe once install_crash_hook has
// run (it only uses what install prepared); before that it does nothing.
void report_crash(std::string_view text) noexcept;

}  // namespace ktstr::guest
