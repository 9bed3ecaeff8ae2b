// The names `kernel build --name NAME` gives a built kernel: a link
// kernels/NAME -> <release> that `--kernel NAME` resolves.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ktstr::vmm::kernel_build {

// Why `name` cannot name a kernel, or nullopt when it can: 1 to 64 of
// [A-Za-z0-9._-], starting with a letter (every kernel release starts
// with a digit, so a name is never a release, and never hidden or an
// option), and not one of the links ktstr-vmm sets itself (default,
// sched-ext).
std::optional<std::string> name_problem(std::string_view name);

}  // namespace ktstr::vmm::kernel_build
