// The QEMU command line of the emulated KVM host: a TCG-emulated PC whose
// CPU model ("max") has SVM with nested paging, so that the outer guest's
// kvm-amd module gives it a working /dev/kvm. For arm64, QEMU's virt
// machine with EL2 (virtualization=on) and a GICv3: the "max" CPU has VHE,
// and the outer kernel's built-in KVM comes up in VHE mode.
//
// Channels (channels.hpp): the serial lines are QEMU "file" chardevs opened
// on /dev/fd/N, the write ends of the host side's pipes; the data port is
// a "pipe" chardev on /dev/fdset/1, an fd set holding one end of a socket
// pair (-add-fd), which QEMU both reads and writes. QEMU's human monitor
// sits on a second socket pair the same way (/dev/fdset/2), asked for the
// outer CPUs' registers when the outer guest hangs (qemu_monitor.hpp).
//
// On arm64 (channels.hpp): COM1 is virt's PL011 (ttyAMA0); virt has only
// the one UART for the normal world in QEMU 7.2, so COM2 is a 16550 on
// PCI ("pci-serial", the outer guest's ttyS0, 8250_pci built in); the
// virtio-serial device sits on a virtio-mmio transport.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel_arch.hpp"

namespace ktstr::vmm::emulated_host {

// The QEMU program for an outer guest of `arch`, and its Debian package.
struct QemuProgram {
    std::string_view program;
    std::string_view package;
};
QemuProgram qemu_program(kernel::KernelArch arch);

// The descriptors QEMU inherits, one pipe write end each.
struct QemuChannelFds {
    int com1 = 3;
    int com2 = 4;
    int data_port = 5;
    int monitor = 6;
};

struct QemuPlan {
    kernel::KernelArch arch = kernel::KernelArch::x86_64;  // the outer guest's
    std::string qemu = "qemu-system-x86_64";  // program path: qemu_program(arch)'s
    std::string kernel;                        // bzImage; an uncompressed Image on arm64
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
// inner command writes to its ports directly); on arm64 it is told where
// COM2 is (KTSTR_INIT_COM2). `verbose` keeps the full boot log; otherwise
// the kernel is quiet.
std::string outer_kernel_cmdline(bool verbose, kernel::KernelArch arch = kernel::KernelArch::x86_64);

}  // namespace ktstr::vmm::emulated_host
