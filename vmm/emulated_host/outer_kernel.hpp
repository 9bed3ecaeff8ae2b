// The outer guest's kernel: the default kernel of the kernel supply
// (Debian's cloud kernel) for the outer guest's architecture, fetched when
// the cache has none; or, as a debugging knob, the kernel
// KTSTR_EMULATED_HOST_KERNEL names (with its Debian-style modules tree
// around it), to try another outer kernel.
#pragma once

#include "kernel/kernel_supply.hpp"

namespace ktstr::vmm::emulated_host {

// Throws std::runtime_error with a one-line reason (no kernel and no way
// to fetch one, a kernel without modules, which the outer guest needs for
// its data port and, on x86_64, /dev/kvm, or a kernel of another
// architecture).
kernel::KernelImage find_outer_kernel(kernel::KernelArch arch = kernel::KernelArch::x86_64);

}  // namespace ktstr::vmm::emulated_host
