#include "emulated_host/qemu_command.hpp"

#include <fmt/core.h>

#include "emulated_host/channels.hpp"

namespace ktstr::vmm::emulated_host {

std::vector<std::string> qemu_arguments(const QemuPlan& p) {
    auto chardev = [](const char* id, int fd) { return fmt::format("file,id={},path=/dev/fd/{}", id, fd); };
    return {
        p.qemu,
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        // TCG on every host core, the CPU model with the most features:
        // on TCG that is an AMD-style CPU with SVM and NPT.
        "-accel", "tcg,thread=multi", "-cpu", p.cpu_model,
        "-machine", "pc",
        "-smp", std::to_string(p.cpus),
        "-m", std::to_string(p.memory_mib),
        "-kernel", p.kernel,
        "-initrd", p.initramfs,
        "-append", p.cmdline,
        "-chardev", chardev("com1", p.fds.com1), "-serial", "chardev:com1",
        "-chardev", chardev("com2", p.fds.com2), "-serial", "chardev:com2",
        "-device", "virtio-serial-pci,id=vser",
        // QEMU opens /dev/fdset/1 read-write: a dup of the socket we passed.
        "-add-fd", fmt::format("fd={},set=1", p.fds.data_port),
        "-chardev", "pipe,id=data,path=/dev/fdset/1",
        "-device", fmt::format("virtserialport,bus=vser.0,nr={},chardev=data,name={}", data_port_number, data_port),
    };
}

std::string outer_kernel_cmdline(bool verbose) {
    // panic=-1: reboot at once on a panic, which -no-reboot turns into
    // QEMU's exit, so a broken outer guest never waits for the timeout.
    std::string c = "console=ttyS0 panic=-1";
    if (!verbose)
        c += " quiet";
    return c;
}

}  // namespace ktstr::vmm::emulated_host
