// The aarch64 guest-physical address map: every fixed address in one place,
// and layout_aarch64(), which places RAM, the SHM region, the initrd and the
// virtio-mmio windows for one VM.
//
//   0x0000_0000 .. 0x0800_0000   unused (no flash, no boot ROM)
//   0x0800_0000 +64 KiB          GICv3 distributor
//   0x0900_0000 +4 KiB each      ns16550a UARTs (ttyS0, ttyS1)
//   0x0a00_0000 +4 KiB each      virtio-mmio windows (up to 32)
//   0x0b00_0000 +4 KiB           boot timer (devices/boot_timer.hpp; KTSTR_BOOT_MARK)
//   0x1000_0000 +128 KiB/vCPU    GICv3 redistributors (room for 512 vCPUs)
//   0x4000_0000                  RAM: kernel | ... | initrd | DTB | SHM
//
// The guest memory slot is [ram_base, ram_base + memory_bytes). Its top
// `shm_bytes` bytes are the SHM region: never in a /memory node, and also
// reserved (no-map /reserved-memory node and /memreserve/ entry), so the
// kernel never allocates it and the guest maps it through /dev/mem.
// docs/memory-layout.md explains the choices.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "memory/memory_map.hpp"

namespace ktstr::vmm::aarch64 {

inline constexpr std::uint64_t page_size = 0x1000;  // 4 KiB: the smallest arm64 granule
inline constexpr std::uint64_t mib = 1ULL << 20;
inline constexpr std::uint64_t gib = 1ULL << 30;

// GICv3. Each redistributor is two 64 KiB frames (RD_base, SGI_base).
inline constexpr std::uint64_t gic_dist_base = 0x0800'0000;
inline constexpr std::uint64_t gic_dist_size = 0x1'0000;
inline constexpr std::uint64_t gic_redist_base = 0x1000'0000;
inline constexpr std::uint64_t gic_redist_size_per_cpu = 0x2'0000;
// KVM's arm64 vCPU limit (KVM_MAX_VCPUS); the redistributor window is sized
// for exactly this many, ending at 0x1400_0000.
inline constexpr std::uint32_t max_cpus = 512;

// Interrupt numbers in the device tree are GIC SPI numbers; the GIC INTID
// (what KVM_IRQ_LINE and irqfd take) is spi + 32.
inline constexpr std::uint32_t gic_spi_intid_base = 32;

// ns16550a UARTs, byte-wide registers (reg-shift 0), one 4 KiB window each.
// The same 16550 device model serves x86_64's port-I/O COM ports.
inline constexpr std::uint64_t uart_base = 0x0900'0000;
inline constexpr std::uint64_t uart_size = 0x1000;
inline constexpr std::uint32_t uart_count = 2;
inline constexpr std::uint32_t uart_first_spi = 1;
inline constexpr std::uint32_t uart_clock_hz = 1'843'200;  // the classic 16550 crystal

inline constexpr std::uint64_t uart_address(std::uint32_t i) noexcept { return uart_base + i * uart_size; }
inline constexpr std::uint32_t uart_spi(std::uint32_t i) noexcept { return uart_first_spi + i; }

// virtio-mmio transport windows (registers and device config, 4 KiB each).
inline constexpr std::uint64_t virtio_mmio_base = 0x0a00'0000;
inline constexpr std::uint64_t virtio_mmio_size = 0x1000;
inline constexpr std::uint32_t virtio_mmio_slots = 32;
inline constexpr std::uint32_t virtio_first_spi = 16;

// The boot timer's page: the guest writes its boot marks there through
// /dev/mem (not in the device tree: nothing in the kernel drives it).
inline constexpr std::uint64_t boot_timer_address = 0x0b00'0000;
inline constexpr std::uint64_t boot_timer_size = 0x1000;
// RAM starts at 1 GiB, as on QEMU's "virt" machine; everything below is MMIO.
inline constexpr std::uint64_t ram_base = 0x4000'0000;
// KVM's default IPA size on arm64 is 40 bits: nothing may sit above 1 TiB.
inline constexpr std::uint64_t max_guest_phys = 1ULL << 40;

// Linux arm64 boot protocol (Documentation/arch/arm64/booting.rst):
// the DTB is 8-byte aligned and at most 2 MiB; it is mapped with 2 MiB
// blocks, so it gets a 2 MiB-aligned slot of plain RAM to itself. The
// kernel Image sits at a 2 MiB-aligned base as low in RAM as possible.
// The initrd must lie in a 1 GiB-aligned window of at most 32 GiB that
// also covers the kernel Image.
inline constexpr std::uint64_t fdt_max_size = 2 * mib;
inline constexpr std::uint64_t kernel_align = 2 * mib;
inline constexpr std::uint64_t initrd_window = 32 * gib;
// The arm64 kernel's COMMAND_LINE_SIZE, terminating NUL included.
inline constexpr std::size_t cmdline_max = 2048;

// Bad sizes or counts in a LayoutRequestAarch64 (or an inconsistent map
// handed to the FDT builder). The message is one line for the user.
struct LayoutError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct LayoutRequestAarch64 {
    std::uint32_t cpus = 1;
    // The guest memory slot, SHM included; a multiple of 4 KiB.
    std::uint64_t memory_bytes = 256 * mib;
    // The SHM ring region at the top of the slot; non-zero, a multiple of 4 KiB.
    std::uint64_t shm_bytes = 1 * mib;
    // 0: no initrd.
    std::uint64_t initrd_bytes = 0;
    // RAM kept free for the kernel Image from ram_base (its image_size,
    // bss included); the initrd is placed above it. A multiple of 2 MiB.
    std::uint64_t kernel_reserve = 64 * mib;
    // virtio-mmio windows, named virtio-mmio.0, virtio-mmio.1, ...
    std::uint32_t virtio_devices = 1;
    // Appended to the base command line (see base_cmdline); must not set
    // KTSTR_* itself.
    std::string cmdline_extra;
};

// What every aarch64 guest gets on its command line, before the KTSTR_*
// parameters and cmdline_extra:
//   console=ttyS0  kernel console on the first UART (also /chosen/stdout-path)
//   panic=-1       reboot at once on panic: PSCI SYSTEM_RESET reaches the VMM
//                  as a KVM system event, and it reports the panic it read
inline constexpr const char* base_cmdline = "console=ttyS0 panic=-1";

// Places everything; throws LayoutError with a one-line reason when the
// request cannot be laid out (0 or too many CPUs, SHM not a non-zero page
// multiple or not smaller than memory, memory too small or too large,
// too many virtio devices, command line too long or setting KTSTR_*).
// cmdline = base_cmdline + " KTSTR_GUEST=1 KTSTR_SHM_BASE=0x...
// KTSTR_SHM_SIZE=0x... KTSTR_BOOT_MARK=0xb000000" + " " + cmdline_extra, as on
// x86_64.
MemoryMap layout_aarch64(const LayoutRequestAarch64& req);

// Where the boot code loads the kernel Image: the first RAM byte (2 MiB
// aligned, text_offset 0 as every kernel since v5.8 reports).
std::uint64_t kernel_load_address(const MemoryMap& map);

// Where the boot code loads the DTB (x0 at entry): the highest 2 MiB-aligned
// 2 MiB slot that lies wholly inside the last RAM range.
std::uint64_t fdt_load_address(const MemoryMap& map);

// The redistributor window for `cpus` vCPUs (one 128 KiB frame pair each).
inline constexpr GuestRange gic_redist_range(std::uint32_t cpus) noexcept {
    return {gic_redist_base, std::uint64_t{cpus} * gic_redist_size_per_cpu};
}

}  // namespace ktstr::vmm::aarch64
