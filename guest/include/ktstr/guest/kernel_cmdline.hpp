// The kernel command line as this guest booted with it, and whether it is
// a ktstr guest. The parameters themselves and their parsers are shared with
// the VMM (ktstr/common/kernel_cmdline_params.hpp).
#pragma once

#include <string>

namespace ktstr::guest {

// The command line read from paths().cmdline (at most 64 KiB); empty
// when unreadable.
std::string read_kernel_cmdline();

// True inside a ktstr guest: the word KTSTR_GUEST=1 is on the kernel
// command line. Read once and cached (until set_paths).
bool is_guest();

}  // namespace ktstr::guest
