// The outer guest's initramfs, built by the project's initramfs builder
// (vmm/initramfs): ktstr-init as /init; ktstr-vmm, with its loader and
// libraries, and every host file the inner command needs, each under
// host_files_root at its own absolute path (the guest side bind-mounts them
// into place, guest_side.hpp); the modules that give the outer guest its
// virtio port and /dev/kvm; the guest side's command line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kernel/kernel_arch.hpp"

namespace ktstr::vmm::emulated_host {

struct OuterInitramfsSpec {
    std::filesystem::path ktstr_vmm;               // runs the guest side
    std::vector<std::filesystem::path> programs;   // more programs the inner command is, stripped like ktstr-vmm
    std::vector<std::filesystem::path> inputs;     // host files or directories
    std::filesystem::path modules_dir;             // the outer kernel's lib/modules/<release>
    std::optional<std::filesystem::path> kernel_config;
    std::vector<std::string> command;              // what ktstr-init runs
    std::vector<std::string> environment;          // NAME=value
    kernel::KernelArch arch = kernel::KernelArch::x86_64;  // the outer kernel's: which modules
};

struct OuterInitramfs {
    std::filesystem::path path;
    std::uint64_t image_bytes = 0;  // uncompressed: what the outer guest unpacks
    bool from_cache = false;
};

// Where `host` (absolute) sits in the image: host_files_root + host.
std::filesystem::path staged_path(const std::filesystem::path& host);

// The modules the outer guest loads (the builder adds their dependencies
// and skips the built-in ones): virtio_pci and virtio_console for the data
// port, kvm_amd for /dev/kvm. kvm_intel is not among them: TCG's "max" CPU
// is an AMD-style CPU, kvm_intel would refuse it, and ktstr-init stops at a
// module that does not load. On arm64, virtio_mmio and virtio_console (the
// data port is on virtio-mmio there); KVM is built in (arm64 KVM cannot be
// a module), as are the serial drivers.
std::vector<std::string> outer_module_names(kernel::KernelArch arch = kernel::KernelArch::x86_64);

// Builds the image, or finds it in the image cache. Throws
// std::runtime_error (and the builder's errors) with a one-line reason.
OuterInitramfs build_outer_initramfs(const OuterInitramfsSpec& spec);

}  // namespace ktstr::vmm::emulated_host
