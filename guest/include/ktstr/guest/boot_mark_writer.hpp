// Writes a boot mark (ktstr/common/boot_mark.hpp) to the page the VMM named
// on the kernel command line, through /dev/mem: one MMIO write the host
// times. Best effort: without the parameter, or when the page cannot be
// mapped, nothing is written and the reason is returned (the boot goes on
// either way; only the host's split of the boot time is missing).
#pragma once

#include <string>
#include <string_view>

#include "ktstr/common/boot_mark.hpp"

namespace ktstr::guest {

// Empty on success or when the command line names no page; else why not.
std::string write_boot_mark(std::string_view cmdline, BootMark mark);

}  // namespace ktstr::guest
