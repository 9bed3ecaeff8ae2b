// Did every option the fragments asked for survive `make olddefconfig`?
// Kconfig drops, without a word, an option whose dependencies are off (or
// that this kernel does not have); a kernel built anyway would lack what
// the user asked for, so `kernel build` stops before compiling.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel_build/config_fragment.hpp"

namespace ktstr::vmm::kernel_build {

struct LostOption {
    std::string name;   // "CONFIG_USB_STORAGE"
    std::string asked;  // "y"
    std::string now;    // the final value, "" when not set
};

// Each option whose final value in `final_config` (a .config's text) is
// not what the fragments asked for, in the order first asked. When several
// fragments set one option, the last one counts (as in Kconfig). "n" is
// met by "not set"; "m" is met by "y" as well, since the kernel is built
// without modules (MODULES off) and Kconfig turns m into y there.
std::vector<LostOption> lost_options(const std::vector<ConfigFragment>& fragments, std::string_view final_config);

// "CONFIG_FOO=y did not survive olddefconfig (now: not set)".
std::string describe(const LostOption& lost);

}  // namespace ktstr::vmm::kernel_build
