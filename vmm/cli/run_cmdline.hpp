// What `ktstr-vmm run` adds to the kernel command line beyond the layout's
// base line and KTSTR_* parameters (arch/x86_64/layout.hpp). The boot
// benchmark gives QEMU the same line, so both boot the guest alike.
#pragma once

#include <string>
#include <string_view>

namespace ktstr::cli {

// Quiet unless the user watches the console (--verbose), since every
// console byte is a vCPU exit; ktstr-init's echo of the command's output
// likewise only with --verbose (the output arrives on the bulk port
// anyway); then `append` (--append).
std::string run_cmdline_extra(bool verbose, std::string_view append);

}  // namespace ktstr::cli
