#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "emulated_host/emulated_host.hpp"
#include "emulated_host/qemu_command.hpp"

using namespace ktstr::vmm::emulated_host;

namespace {
// The value following `flag` at its `n`th occurrence.
std::vector<std::string> values_of(const std::vector<std::string>& args, const std::string& flag) {
    std::vector<std::string> v;
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == flag)
            v.push_back(args[i + 1]);
    return v;
}
bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("qemu command: TCG on all threads, the max CPU, the plan's shape") {
    QemuPlan p;
    p.qemu = "/usr/bin/qemu-system-x86_64";
    p.kernel = "/k/vmlinuz";
    p.initramfs = "/k/initrd";
    p.cmdline = "console=ttyS0";
    p.cpus = 2;
    p.memory_mib = 600;
    const auto a = qemu_arguments(p);
    CHECK(a.front() == p.qemu);
    CHECK(values_of(a, "-accel") == std::vector<std::string>{"tcg,thread=multi"});
    CHECK(values_of(a, "-cpu") == std::vector<std::string>{"max"});
    CHECK(values_of(a, "-smp") == std::vector<std::string>{"2"});
    CHECK(values_of(a, "-m") == std::vector<std::string>{"600"});
    CHECK(values_of(a, "-kernel") == std::vector<std::string>{"/k/vmlinuz"});
    CHECK(values_of(a, "-initrd") == std::vector<std::string>{"/k/initrd"});
    CHECK(values_of(a, "-append") == std::vector<std::string>{"console=ttyS0"});
    CHECK(contains(a, "-no-reboot"));
    CHECK(contains(a, "-nodefaults"));
}

TEST_CASE("qemu command: serial lines on inherited pipe fds, the data port and the monitor on fd sets") {
    QemuPlan p;
    p.fds = {10, 11, 12, 13};
    const auto a = qemu_arguments(p);
    CHECK(values_of(a, "-chardev") == std::vector<std::string>{"file,id=com1,path=/dev/fd/10",
                                                               "file,id=com2,path=/dev/fd/11",
                                                               "pipe,id=data,path=/dev/fdset/1",
                                                               "pipe,id=monitor,path=/dev/fdset/2"});
    CHECK(values_of(a, "-add-fd") == std::vector<std::string>{"fd=12,set=1", "fd=13,set=2"});
    CHECK(values_of(a, "-mon") == std::vector<std::string>{"chardev=monitor,mode=readline"});
    CHECK(values_of(a, "-serial") == std::vector<std::string>{"chardev:com1", "chardev:com2"});
    const auto devices = values_of(a, "-device");
    CHECK(contains(devices, "virtio-serial-pci,id=vser"));
    CHECK(contains(devices, "virtserialport,bus=vser.0,nr=2,chardev=data,name=ktstr.data"));
}

TEST_CASE("qemu command: the outer kernel is quiet unless verbose, never reboots, stays where its System.map says") {
    CHECK(outer_kernel_cmdline(false) == "console=ttyS0 panic=-1 nokaslr quiet");
    CHECK(outer_kernel_cmdline(true) == "console=ttyS0 panic=-1 nokaslr");
}

TEST_CASE("qemu command: arm64 is QEMU's virt machine with EL2 and a GICv3") {
    using ktstr::vmm::kernel::KernelArch;
    CHECK(qemu_program(KernelArch::arm64).program == "qemu-system-aarch64");
    CHECK(qemu_program(KernelArch::arm64).package == "qemu-system-arm");
    CHECK(qemu_program(KernelArch::x86_64).program == "qemu-system-x86_64");
    QemuPlan p;
    p.arch = KernelArch::arm64;
    p.qemu = "/usr/bin/qemu-system-aarch64";
    p.kernel = "/k/Image";
    p.initramfs = "/k/initrd";
    p.cmdline = outer_kernel_cmdline(false, KernelArch::arm64);
    p.fds = {10, 11, 12, 13};
    const auto a = qemu_arguments(p);
    CHECK(a.front() == p.qemu);
    CHECK(values_of(a, "-machine") == std::vector<std::string>{"virt,virtualization=on,gic-version=3"});
    CHECK(values_of(a, "-cpu") == std::vector<std::string>{"max"});
    CHECK(values_of(a, "-accel") == std::vector<std::string>{"tcg,thread=multi"});
    CHECK(values_of(a, "-kernel") == std::vector<std::string>{"/k/Image"});
    CHECK(contains(a, "-no-reboot"));
    CHECK(contains(a, "-nodefaults"));
    // COM1 on the PL011, COM2 on a PCI 16550, the data port on virtio-mmio.
    CHECK(values_of(a, "-serial") == std::vector<std::string>{"chardev:com1"});
    CHECK(values_of(a, "-chardev") == std::vector<std::string>{"file,id=com1,path=/dev/fd/10",
                                                               "file,id=com2,path=/dev/fd/11",
                                                               "pipe,id=data,path=/dev/fdset/1",
                                                               "pipe,id=monitor,path=/dev/fdset/2"});
    CHECK(values_of(a, "-add-fd") == std::vector<std::string>{"fd=12,set=1", "fd=13,set=2"});
    CHECK(values_of(a, "-mon") == std::vector<std::string>{"chardev=monitor,mode=readline"});
    CHECK(values_of(a, "-device") == std::vector<std::string>{
                                         "pci-serial,chardev=com2", "virtio-serial-device,id=vser",
                                         "virtserialport,bus=vser.0,nr=2,chardev=data,name=ktstr.data"});
}

TEST_CASE("qemu command: the arm64 outer kernel's console is the PL011, its COM2 the PCI 16550") {
    using ktstr::vmm::kernel::KernelArch;
    CHECK(outer_kernel_cmdline(false, KernelArch::arm64) == "console=ttyAMA0 KTSTR_INIT_COM2=/dev/ttyS0 panic=-1 nokaslr quiet");
    CHECK(outer_kernel_cmdline(true, KernelArch::arm64) == "console=ttyAMA0 KTSTR_INIT_COM2=/dev/ttyS0 panic=-1 nokaslr");
    CHECK(outer_kernel_cmdline(true, KernelArch::x86_64) == "console=ttyS0 panic=-1 nokaslr");
}

TEST_CASE("outer memory: the inner VM's RAM plus 512 MiB plus twice the initramfs payload") {
    CHECK(outer_memory_mib(0, 0) == 512);
    CHECK(outer_memory_mib(256, 0) == 768);
    CHECK(outer_memory_mib(256, 10 * 1024 * 1024) == 788);
    CHECK(outer_memory_mib(0, 1) == 513);
}
