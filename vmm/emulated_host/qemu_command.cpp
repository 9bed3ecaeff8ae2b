#include "emulated_host/qemu_command.hpp"

#include <fmt/core.h>

#include "emulated_host/channels.hpp"

namespace ktstr::vmm::emulated_host {

QemuProgram qemu_program(kernel::KernelArch arch) {
    if (arch == kernel::KernelArch::arm64)
        return {"qemu-system-aarch64", "qemu-system-arm"};
    return {"qemu-system-x86_64", "qemu-system-x86"};
}

namespace {

std::string chardev(const char* id, int fd) { return fmt::format("file,id={},path=/dev/fd/{}", id, fd); }

}  // namespace

std::vector<std::string> qemu_arguments(const QemuPlan& p) {
    const bool arm64 = p.arch == kernel::KernelArch::arm64;
    std::vector<std::string> args{
        p.qemu,
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        // TCG on every host core, the CPU model with the most features: on
        // x86_64 an AMD-style CPU with SVM and NPT; on arm64 one with EL2.
        "-accel", "tcg,thread=multi", "-cpu", p.cpu_model,
        // arm64: EL2 for the outer kernel's KVM, and a GICv3, which KVM's
        // vGIC needs to give the inner guests theirs.
        "-machine", arm64 ? "virt,virtualization=on,gic-version=3" : "pc",
        "-smp", std::to_string(p.cpus),
        "-m", std::to_string(p.memory_mib),
        "-kernel", p.kernel,
        "-initrd", p.initramfs,
        "-append", p.cmdline,
        // virt's PL011 takes the first -serial even with -nodefaults; its
        // second line is a 16550 on PCI (channels.hpp).
        "-chardev", chardev("com1", p.fds.com1), "-serial", "chardev:com1",
        "-chardev", chardev("com2", p.fds.com2),
    };
    if (arm64)
        args.insert(args.end(), {"-device", "pci-serial,chardev=com2"});
    else
        args.insert(args.end(), {"-serial", "chardev:com2"});
    args.insert(args.end(), {
        "-device", arm64 ? "virtio-serial-device,id=vser" : "virtio-serial-pci,id=vser",
        // QEMU opens /dev/fdset/1 read-write: a dup of the socket we passed.
        "-add-fd", fmt::format("fd={},set=1", p.fds.data_port),
        "-chardev", "pipe,id=data,path=/dev/fdset/1",
        "-device", fmt::format("virtserialport,bus=vser.0,nr={},chardev=data,name={}", data_port_number, data_port),
        "-add-fd", fmt::format("fd={},set=2", p.fds.monitor),
        "-chardev", "pipe,id=monitor,path=/dev/fdset/2",
        "-mon", "chardev=monitor,mode=readline",
    });
    return args;
}

std::string outer_kernel_cmdline(bool verbose, kernel::KernelArch arch) {
    // panic=-1: reboot at once on a panic, which -no-reboot turns into
    // QEMU's exit, so a broken outer guest never waits for the timeout.
    // nokaslr: the kernel runs at its System.map's addresses, so that the
    // pcs of a hung outer guest (qemu_monitor.hpp) can be named, with
    // Debian's -dbg package's map where the shipped one is a stub.
    std::string c = arch == kernel::KernelArch::arm64
                        ? fmt::format("console=ttyAMA0 KTSTR_INIT_COM2={} panic=-1 nokaslr", arm64_com2_device)
                        : "console=ttyS0 panic=-1 nokaslr";
    if (!verbose)
        c += " quiet";
    return c;
}

}  // namespace ktstr::vmm::emulated_host
