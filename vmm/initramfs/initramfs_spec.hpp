// What an initramfs is made of, as the builder's callers describe it
// (`ktstr-vmm initramfs`, `ktstr-vmm run`, the emulated KVM host). The
// image it becomes (docs/kernel-and-initramfs.md):
//
//   /init                         `init` (ktstr-init)
//   /bin/<name>                   each of `programs`
//   /bin/busybox, /bin/<applet>   busybox and a symlink per applet
//   <guest path>                  each of `files`: a file (a dynamic ELF
//                                 program with its loader and libraries),
//                                 or a directory tree
//   /lib/modules/<release>/...    the modules and their dependencies
//   /etc/ktstr/modules            their load order, for ktstr-init
//   /etc/ktstr/command            `command`, each argument NUL-terminated
//   /etc/ktstr/environment        `environment`, likewise
//   /etc/ktstr/scheduler          `scheduler`, likewise (only when given)
//   /dev/console, /proc, /sys, /tmp, /run, /root  mount points and the console
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "initramfs/compression.hpp"
#include "initramfs/module_order.hpp"

namespace ktstr::vmm::initramfs {

struct Placement {
    std::filesystem::path host;
    std::filesystem::path guest;  // absolute; empty: the host path made absolute
};

struct InitramfsSpec {
    std::filesystem::path init;
    std::vector<std::filesystem::path> programs;     // into /bin under their own names
    std::optional<std::filesystem::path> busybox;    // static busybox; applet links in /bin
    std::vector<Placement> files;
    // Modules: looked up in `modules_dir` (lib/modules/<release>). With
    // `kernel_config`, compressed modules stay compressed when the kernel
    // decompresses that format itself (CONFIG_MODULE_DECOMPRESS); without,
    // or when it cannot, they are decompressed into the image.
    std::optional<std::filesystem::path> modules_dir;
    std::optional<std::filesystem::path> kernel_config;
    std::vector<ModuleRequest> modules;
    std::vector<std::string> command;      // argv; argv[0] non-empty
    std::vector<std::string> environment;  // NAME=value
    // The sched_ext scheduler ktstr-init starts and watches before the
    // command (docs/sched-ext.md): argv, its program among `files`;
    // empty: none.
    std::vector<std::string> scheduler;
    // With `kernel_config`, checked against CONFIG_RD_GZIP / CONFIG_RD_ZSTD.
    Compression compression = Compression::gzip;
};

// "HOST[:GUEST]" -> Placement. GUEST starts at the last ':' followed by
// '/', so a HOST containing ':' still works when GUEST is given. Throws
// std::invalid_argument for an empty HOST.
Placement parse_placement(const std::string& text);

}  // namespace ktstr::vmm::initramfs
