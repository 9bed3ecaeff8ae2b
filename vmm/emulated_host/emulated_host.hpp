// The emulated KVM host: runs a ktstr-vmm command inside a QEMU guest
// whose TCG-emulated CPU has SVM, for machines without a usable /dev/kvm
// (docs/kvm-anywhere.md). The caller sees the inner command's stdout and
// stderr live, its exit status, and its output files, as if it had run
// here.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "kernel/kernel_arch.hpp"

namespace ktstr::vmm::emulated_host {

// Exit statuses of the emulated host itself (with a one-line reason on
// stderr); every other status is the inner command's own.
inline constexpr int exit_timeout = 124;       // killed at the timeout
inline constexpr int exit_host_failure = 125;  // QEMU or the outer guest failed before reporting an exit code

struct Request {
    // The inner command's arguments, argv[0] excluded (from
    // arguments_for_inner_host or inner_command_line, inner_arguments.hpp,
    // so they carry --kvm host).
    std::vector<std::string> arguments;
    // The program they are for; empty: the running one (a ktstr-vmm
    // subcommand re-running itself). Another program (the boot benchmark)
    // goes into the outer image as ktstr-vmm does, at its own path.
    std::filesystem::path program;
    // The ktstr-vmm whose `emulated-host-inside` runs the inner command in
    // the outer guest; empty: the running program.
    std::filesystem::path ktstr_vmm;
    // Host files, and host directories, the inner command writes; they come
    // back once it exited. Relative paths are taken from the current
    // directory. The return stream may write a declared file only as a file
    // and a declared directory only as one, with files strictly below it.
    std::vector<std::filesystem::path> outputs;
    std::vector<std::filesystem::path> output_dirs;
    // Host files or directories the inner command reads beyond those its
    // arguments name (a kernel, its modules, guest binaries).
    std::vector<std::filesystem::path> inputs;
    // Guest RAM of the inner VM; the outer guest gets this plus room for
    // its own kernel, the initramfs and the inner VMM.
    std::uint64_t inner_memory_mib = 0;
    std::uint32_t cpus = 2;
    // The outer guest's architecture: the inner command's (an arm64
    // ktstr-vmm runs in an arm64 outer guest, qemu-system-aarch64).
    kernel::KernelArch arch = kernel::KernelArch::x86_64;
    // From QEMU's start to its exit, boot included.
    std::chrono::seconds timeout{120};
    // The outer kernel's console and QEMU's messages on stderr, live.
    bool verbose = false;
    // Which non-zero inner exit statuses, when the inner command printed
    // nothing, get the console's last lines as an explanation. By default
    // all; `run` passes a guest program's status through, where a silent
    // `false` is no failure, and explains only its own failure codes.
    std::function<bool(int)> explain_silent_exit = [](int) { return true; };
};

// Runs the request; returns the inner command's exit status, or one of
// the codes above. Throws std::runtime_error only for bad requests
// (e.g. an input that does not exist).
int run_in_emulated_host(const Request& request);

// The outer guest's RAM for a request whose uncompressed initramfs is
// `image_bytes` long.
std::uint64_t outer_memory_mib(std::uint64_t inner_memory_mib, std::uint64_t image_bytes);

}  // namespace ktstr::vmm::emulated_host
