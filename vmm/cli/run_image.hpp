// The guest image `ktstr-vmm run` boots: ktstr-init as /init,
// ktstr-selftest, busybox, the modules of the guest's virtio-mmio console,
// the --include files, the command and its environment. The boot
// benchmark (bench/boot) boots the very same image under both VMMs, so
// it takes the spec from here, not from a copy.
#pragma once

#include <span>
#include <string>

#include "initramfs/initramfs_spec.hpp"
#include "kernel/kernel_supply.hpp"

namespace ktstr::cli {

// Files --include puts nowhere in particular land here, on the command's PATH.
inline constexpr const char* include_dir = "/include";

// The spec for `kernel`'s modules, `includes` (HOST[:GUEST] each, as
// --include takes them) and `command`, with the guest programs and busybox
// of the kernel's architecture (guest_programs.hpp). Throws std::invalid_argument for a
// bad or missing --include, std::runtime_error when a guest program or
// busybox is not installed; each with a one-line reason.
vmm::initramfs::InitramfsSpec run_image_spec(const vmm::kernel::KernelImage& kernel,
                                             std::span<const std::string> includes,
                                             std::span<const std::string> command);

}  // namespace ktstr::cli
