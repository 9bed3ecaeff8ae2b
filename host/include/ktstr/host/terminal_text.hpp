// Guest text on the host's terminal. Crash reports, COM2 lines, the panic
// line and lifecycle reasons come from the guest and reach stderr next to
// the host's own lines: a guest must not be able to move the cursor, clear
// the screen, set the window title (terminal escape sequences), or print a
// line that looks like one of the host's ("ktstr-vmm: ...").
//
// The rules, the same everywhere:
//  - C0 controls (0x00-0x1F), DEL (0x7F) and C1 controls (U+0080-U+009F,
//    which some terminals obey like ESC [) become the four characters
//    "\xNN" (the byte, or the code point for C1);
//  - a byte that is not part of valid UTF-8 (stray continuation bytes,
//    overlong forms, surrogates, above U+10FFFF, a truncated sequence)
//    becomes "\xNN" too, so nothing reaches the terminal that it could
//    decode as something else;
//  - the escaped text is cut at a byte bound, on a character boundary,
//    with " ... (N bytes more)" (N counts the guest's bytes not shown).
// Guest stdout/stderr payloads (SOUT/SERR) are the command's own output
// and do not go through here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ktstr::host {

// One line: every control character escaped, '\n' included, so the result
// never spans lines. At most `max_bytes` bytes of escaped text (plus the
// " ... (N bytes more)" note).
std::string terminal_line(std::string_view guest_text, std::size_t max_bytes = 1024);

// A multi-line guest text (a crash report): split at '\n' (a '\r' just
// before it is dropped with it), each line
// escaped as by terminal_line() and put after `prefix` (e.g.
// "ktstr-vmm: guest crash| "), so no guest line starts at column 0. At most
// `max_lines` lines; the rest is one more prefixed line "... (N lines
// more)". Every line of the result ends in '\n'; an empty text gives one
// empty prefixed line.
std::string terminal_lines(std::string_view guest_text, std::string_view prefix, std::size_t max_lines = 200,
                           std::size_t max_line_bytes = 1024);

}  // namespace ktstr::host
