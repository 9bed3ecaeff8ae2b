// The outer guest's kernel: the default kernel of the kernel supply
// (Debian's cloud kernel), fetched when the cache has none; or, as a
// debugging knob, the bzImage KTSTR_EMULATED_HOST_KERNEL names (with its
// Debian-style modules tree around it), to try another outer kernel.
#pragma once

#include "kernel/kernel_supply.hpp"

namespace ktstr::vmm::emulated_host {

// Throws std::runtime_error with a one-line reason (no kernel and no way
// to fetch one, or a kernel without modules, which the outer guest needs
// for /dev/kvm).
kernel::KernelImage find_outer_kernel();

}  // namespace ktstr::vmm::emulated_host
