// One KVM virtual machine, put together from the pieces. On x86_64:
//   KVM VM with the in-kernel irqchip and PIT, its TSS and identity-map
//   pages (layout.hpp); guest RAM and the SHM region (guest_ram.hpp) with
//   the boot plan written into it (arch/x86_64/boot_plan.hpp); COM1 and
//   COM2 (16550) on irqfds; the multiport virtio-console behind one
//   virtio-mmio window, its queue notifications on ioeventfds (device
//   thread) and its interrupt on an irqfd; the port-I/O and MMIO buses;
//   `cpus` vCPUs (vcpu_setup.hpp), vCPU 0 at the kernel's 64-bit entry.
// On aarch64 (machine_aarch64.cpp): guest RAM and the SHM region with the
//   Image, initrd and device tree (arch/aarch64/boot_plan.hpp); two
//   ns16550a UARTs and the virtio-mmio console on MMIO, their interrupts
//   irqfds into the in-kernel GICv3; `cpus` vCPUs with PSCI, vCPU 0 at the
//   Image's entry, the others powered off until the guest's CPU_ON.
//
// Construction does all of that without running anything, and needs
// nothing built later: where the devices' output goes is given to run().
// run() starts the vCPU and device threads and returns why the VM
// stopped, after every vCPU has stopped and the console's queues were
// drained one last time (so nothing the guest wrote before power-off is
// lost); the outputs are called only while run() runs. Every thread, fd,
// memory slot and mapping goes with the object, on every path.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/topology.hpp"
#if defined(__aarch64__)
#include "arch/aarch64/vcpu/gicv3.hpp"
#endif
#include "devices/boot_timer.hpp"
#include "devices/serial_16550.hpp"
#include "devices/virtio_console.hpp"
#include "devices/virtio_mmio.hpp"
#include "kvm/ioeventfd.hpp"
#include "kvm/irqfd.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/kvm_vm.hpp"
#include "memory/memory_map.hpp"
#include "machine/boot_files.hpp"
#include "machine/bus.hpp"
#include "machine/device_events.hpp"
#include "machine/guest_ram.hpp"
#include "machine/stop_signal.hpp"
#include "machine/vcpu_thread.hpp"

namespace ktstr::vmm::machine {

struct MachineConfig {
    std::uint32_t cpus = 2;
    // Empty: CpuTopology::flat(cpus); else its vCPU count must be cpus.
    // x86_64 only: an aarch64 Machine refuses one.
    std::optional<x86_64::CpuTopology> topology;
    std::uint64_t memory_bytes = 256ull << 20;  // SHM region included
    std::uint64_t shm_bytes = 1ull << 20;
    std::string cmdline_extra;                  // after the base line and KTSTR_*
    std::string kvm_device = "/dev/kvm";
    devices::VirtioConsoleConfig console;
};

// Where the devices' output goes. Called on vCPU threads (the UARTs; the
// console too when the guest resets it), the device thread (the console)
// or run()'s own thread (the console's last pass), one caller at a time
// per device (its lock is held); each must return quickly and never throw.
struct MachineOutputs {
    devices::Serial16550::OutputSink com1;
    devices::Serial16550::OutputSink com2;
    devices::VirtioConsole::TransmitSink console;
};

class Machine {
public:
    // Throws LayoutError / BzImageError / std::invalid_argument for a
    // request that does not fit (bad sizes, initrd too large), KvmError
    // when KVM refuses something. The kernel and the initrd are copied
    // into guest RAM here, and not read again: `boot` may go once this
    // returns.
    Machine(const MachineConfig& config, const BootFiles& boot);
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;
    ~Machine();

    // Runs the guest until it powers off or resets, a vCPU fails, or
    // `deadline` (as set_deadline() moved it, or an earlier
    // limit_deadline()) passes; the devices' output goes to `outputs`
    // until it returns (or throws: every thread has stopped by then too).
    // Call once.
    Stop run(std::chrono::steady_clock::time_point deadline, MachineOutputs outputs);

    // Replaces the run's deadline, later or earlier, from any thread: the
    // run's timeout starts when the guest's command starts, not at boot.
    void set_deadline(std::chrono::steady_clock::time_point deadline);

    // Brings the deadline forward (never back), from any thread, e.g. to
    // stop soon after a kernel panic even if the reset never comes.
    void limit_deadline(std::chrono::steady_clock::time_point deadline);
    // Stops the VM now (run() returns StopReason::host_stop with `detail`)
    // unless it already stopped; from any thread, never blocks for long.
    void request_stop(std::string detail);

    const MemoryMap& memory_map() const noexcept { return map_; }
    devices::VirtioConsole& console() noexcept { return *console_; }
    SharedRegion shm() const noexcept { return ram_->shm(); }
    // vCPU exits handled in the last run() (all vCPUs).
    std::uint64_t exits() const noexcept { return exits_; }
    // After run(): where each vCPU was when the stop took it out of KVM_RUN
    // (VcpuThread::stopped_at), by index.
    const std::vector<std::optional<VcpuPosition>>& vcpu_stop_positions() const noexcept { return stop_positions_; }
    // When run() started the vCPUs, and when the guest wrote each boot
    // mark (devices/boot_timer.hpp); nullopt: not (yet).
    std::optional<std::chrono::steady_clock::time_point> vcpus_started() const noexcept { return vcpus_started_; }
    const devices::BootTimer& boot_timer() const noexcept { return boot_timer_; }
    // After run(): the first page of the kernel image map under `at`'s page
    // tables (arch/x86_64/kernel_image_map.hpp), read from guest RAM;
    // always nullopt on aarch64.
    std::optional<std::uint64_t> kernel_image_page(const VcpuPosition& at) const;

private:
    // Where an architecture puts the devices every machine has.
    struct DeviceWiring {
        std::uint32_t com1_gsi, com2_gsi;   // irqfd GSIs (an IOAPIC pin; a GIC SPI number)
        Bus* uart_bus;                      // port I/O (x86_64) or MMIO (aarch64)
        std::uint64_t com1_base, com2_base;
        GuestRange boot_timer;              // on the MMIO bus
    };
    // The UARTs, the boot timer and the virtio-mmio console of map_.mmio[0]
    // with its queue ioeventfds, wired to run()'s outputs (machine.cpp).
    void add_devices(const MachineConfig& config, const DeviceWiring& wiring);
    // The boot plan's writes copied into guest RAM in pieces, each dropped
    // from this process's memory once copied (BootFiles).
    template <typename Writes>
    void copy_boot_writes(const Writes& writes, const BootFiles& boot);
    void stop_threads() noexcept;

    MemoryMap map_;
    kvm::KvmSystem system_;
    kvm::KvmVm vm_;
    std::unique_ptr<GuestRam> ram_;
    std::unique_ptr<kvm::Irqfd> com1_irq_, com2_irq_, virtio_irq_;
    MachineOutputs outputs_;  // set for the span of run(); before the devices that call it
    std::unique_ptr<devices::Serial16550> com1_, com2_;
    std::unique_ptr<devices::VirtioConsole> console_;
    std::unique_ptr<devices::VirtioMmio> transport_;  // after the device: goes first
    std::vector<std::unique_ptr<kvm::Ioeventfd>> queue_events_;
    Bus io_, mmio_;  // io_ stays empty on aarch64: no port I/O there
    std::vector<DeviceEventSource> event_sources_;  // served from run()
    StopSignal stop_;
    std::vector<kvm::KvmVcpu> vcpus_;
#if defined(__aarch64__)
    std::unique_ptr<aarch64::Gicv3> gic_;  // after the vCPUs: made once they all exist
#endif
    std::atomic<std::int64_t> deadline_{INT64_MAX};  // steady_clock ticks
    std::atomic<std::int64_t> limit_{INT64_MAX};     // steady_clock ticks
    std::uint64_t exits_ = 0;
    std::vector<std::optional<VcpuPosition>> stop_positions_;
    devices::BootTimer boot_timer_;
    std::optional<std::chrono::steady_clock::time_point> vcpus_started_;
    // Threads last: they stop before anything they use goes away.
    std::unique_ptr<DeviceEvents> device_events_;
    std::vector<std::unique_ptr<VcpuThread>> vcpu_threads_;
};

// In pieces: a piece of the kernel or the initrd leaves this process's
// resident memory once it is in guest RAM (BootFiles), so at most one piece
// of either file counts in it at a time, never the whole file.
template <typename Writes>
void Machine::copy_boot_writes(const Writes& writes, const BootFiles& boot) {
    constexpr std::size_t piece = std::size_t{256} << 10;
    for (const auto& w : writes) {
        for (std::size_t at = 0; at < w.bytes.size(); at += piece) {
            const byte_view part = w.bytes.subspan(at, std::min(piece, w.bytes.size() - at));
            ram_->write(w.address + at, part);
            boot.drop_resident(part);
        }
    }
}

}  // namespace ktstr::vmm::machine
