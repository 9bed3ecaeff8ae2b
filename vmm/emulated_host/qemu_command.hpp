// The QEMU command line of the emulated KVM host: a TCG-emulated PC whose
// CPU model ("max") has SVM with nested paging, so that the outer guest's
// kvm-amd module gives it a working /dev/kvm.
//
// Channels (channels.hpp): the serial lines are QEMU "file" chardevs opened
// on /dev/fd/N, the write ends of the host side's pipes; the data port is
// a "pipe" chardev on /dev/fdset/1, an fd set holding one end of a socket
// pair (-add-fd), which QEMU both reads and writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ktstr::vmm::emulated_host {

// The descriptors QEMU inherits, one pipe write end each.
struct QemuChannelFds {
    int com1 = 3;
    int com2 = 4;
    int data_port = 5;
};

struct QemuPlan {
    std::string qemu = "qemu-system-x86_64";  // program path
    std::string kernel;                        // bzImage
    std::string initramfs;
    std::string cmdline;                       // the outer kernel's command line
    std::uint32_t cpus = 2;
    std::uint64_t memory_mib = 1024;
    std::string cpu_model = "max";             // QEMU -cpu
    QemuChannelFds fds;
};

// argv for execv, argv[0] included.
std::vector<std::string> qemu_arguments(const QemuPlan& plan);

// The outer kernel's command line: console on COM1, no reboot loop after a
// panic. ktstr-init's defaults do the rest (its echo of the guest side's
// own output lands on the console, where a failure report finds it; the
// inner command writes to its ports directly). `verbose` keeps the full
// boot log; otherwise the kernel is quiet.
std::string outer_kernel_cmdline(bool verbose);

}  // namespace ktstr::vmm::emulated_host
