// The emulated host's guest side: the command ktstr-init runs inside the
// outer QEMU guest (`ktstr-vmm emulated-host-inside`, hidden). It finds
// the data port of channels.hpp, runs the inner ktstr-vmm, copies its
// stdout and stderr to the port as they come, sends the declared output
// files and the end record after it exited, waits for the host's
// acknowledgement (return_stream.hpp), and exits with the inner command's
// status, which ktstr-init reports as "KTSTR_EXIT=N" on COM2.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace ktstr::vmm::emulated_host {

// Where the outer initramfs holds the host's files, each under its own
// absolute path (/.ktstr-host/work/x/file). They cannot sit at their real
// paths in the image: ktstr-init mounts tmpfs on /tmp (and devtmpfs,
// proc, sysfs elsewhere), which would hide anything placed below; the
// guest side bind-mounts each one into place after those mounts.
inline constexpr const char* host_files_root = "/.ktstr-host";

struct GuestSideOptions {
    std::filesystem::path cwd;                     // the caller's working directory, made and entered
    std::vector<std::filesystem::path> outputs;    // sent back once the command exited
    // Absolute host paths staged under host_root, bind-mounted at their
    // own paths before the command runs.
    std::filesystem::path host_root = host_files_root;
    std::vector<std::filesystem::path> host_paths;
    std::vector<std::string> command;              // argv of the inner command
    std::chrono::milliseconds port_wait{10000};    // how long the port may take to appear
    std::chrono::milliseconds ack_wait{60000};     // how long the host may take to acknowledge
    // Keep one empty VM open in a detached child for the rest of the outer
    // guest's life (see kvm_holder in guest_side.cpp). Only for the real
    // outer guest: elsewhere the child would outlive the caller.
    bool hold_kvm = false;
    std::filesystem::path ports_dir = "/sys/class/virtio-ports";
    std::filesystem::path dev_dir = "/dev";
};

// Runs the command; returns its exit status (128 + N when killed by
// signal N). Failures of our own are reported on stderr (and through the
// port once it is open) and return 125.
int run_guest_side(const GuestSideOptions& options);

}  // namespace ktstr::vmm::emulated_host
