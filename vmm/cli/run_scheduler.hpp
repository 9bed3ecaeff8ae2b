// `run --scheduler NAME_OR_PATH`: which host program becomes the guest's
// sched_ext scheduler, and where it goes in the image.
//   NAME (no '/')  one of the schedulers `kernel build` built with the
//                  kernel being booted (<release>/ktstr/schedulers/NAME)
//   PATH           any host program, included with its libraries
// Either way the kernel must have sched_ext (CONFIG_SCHED_CLASS_EXT=y)
// when its configuration is known.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "initramfs/initramfs_spec.hpp"
#include "kernel/kernel_supply.hpp"

namespace ktstr::cli {

// Where schedulers land in the guest (not on the command's PATH: the
// command need not know them).
inline constexpr const char* scheduler_guest_dir = "/usr/libexec/ktstr/schedulers";

struct SchedulerChoice {
    std::filesystem::path host;  // the program on this host
    std::string name;            // its file name: "scx_qmap"
    std::string guest_path;      // scheduler_guest_dir/name
};

// Throws std::invalid_argument with a one-line reason: an unknown name
// (naming the ones there are), a kernel without built schedulers or
// without sched_ext, a path that is not an executable file.
SchedulerChoice choose_scheduler(const std::string& spec, const vmm::kernel::KernelImage& kernel);

// Adds the program to `image` and records its argv (guest path, then
// `args`) as the scheduler ktstr-init starts.
void add_scheduler(vmm::initramfs::InitramfsSpec& image, const SchedulerChoice& choice,
                   std::span<const std::string> args);

}  // namespace ktstr::cli
