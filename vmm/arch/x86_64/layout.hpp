// The x86_64 guest-physical address map: every fixed address in one place,
// and layout_x86_64(), which places RAM, the SHM region, the initrd and the
// virtio-mmio windows for one VM.
//
//   0x0000_0000  RAM (E820 usable up to 0x9_FC00)
//     0x0500       GDT (boot_cpu_state.hpp), 0x0540 IDT (empty)
//     0x6000       PVH start info, module list, memory map (a vmlinux boot)
//     0x7000       zero page (struct boot_params, 4 KiB; a bzImage boot)
//     0x8000       boot stack, RSP = 0x8FF0 at entry
//     0x9000       identity page tables: PML4, PDPT, 4 page directories
//                  (2 MiB pages for [0, 4 GiB)), up to 0xF000
//     0x2_0000     kernel command line (64 KiB window)
//     0x9_D000     left alone: the decompressor puts its 5-level paging
//                  trampoline just below 0x9_F000 (it saves and restores it)
//   0x0009_FC00  E820 reserved up to 1 MiB: EBDA, VGA hole, BIOS area;
//     0xE_0000     ACPI tables, RSDP first (inside the legacy RSDP scan area)
//     0xF_FFF0     reset vector: a stub that writes the ACPI reset register
//   0x0010_0000  RAM
//     0x100_0000   the bzImage's protected-mode kernel (its pref_address),
//                  or a vmlinux's segments at their physical addresses
//   A            the SHM region: A is the 64 MiB-aligned end of a RAM range
//   ...          the rest of RAM after the SHM region, then above 4 GiB
//   0xC000_0000  32-bit MMIO hole (no RAM from 3 GiB to 4 GiB)
//     0xD000_0000  virtio-mmio windows, 4 KiB each, GSI 16 + i
//     0xD001_0000  the boot timer's page (KTSTR_BOOT_MARK, boot_mark.hpp)
//     0xFEC0_0000  IOAPIC
//     0xFEE0_0000  local APICs
//     0xFFFB_C000  KVM's identity-map page, then its 3-page TSS (Intel VMX)
//   0x1_0000_0000 RAM above 4 GiB
//
// MemoryMap::ram holds the host-backed guest RAM. Its first range starts at
// 0 and covers the legacy BIOS window [0x9_FC00, 1 MiB); the E820 table
// (e820.hpp) reports that window as reserved, so the kernel sees it as
// firmware memory, and the ACPI tables written there are backed like RAM.
//
// Why the SHM region sits where it does: Linux claims the space after every
// E820 RAM range up to a boundary as a busy "RAM buffer" resource
// (e820__reserve_resources_late: 64 KiB in the first MiB, 1 MiB below
// 16 MiB, 64 MiB above). A busy resource is exclusive under
// IO_STRICT_DEVMEM, so mmap of /dev/mem there fails with EPERM. Starting
// the region at a 64 MiB-aligned end of RAM leaves no RAM buffer over it.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "arch/x86_64/topology.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64 {

inline constexpr std::uint64_t page_size = 0x1000;
inline constexpr std::uint64_t kib = 1ULL << 10;
inline constexpr std::uint64_t mib = 1ULL << 20;
inline constexpr std::uint64_t gib = 1ULL << 30;

// --- low memory: boot structures the VMM writes before the first vCPU runs
inline constexpr std::uint64_t boot_gdt_address = 0x500;
inline constexpr std::uint64_t boot_idt_address = 0x540;
inline constexpr std::uint64_t pvh_start_info_address = 0x6000;
inline constexpr std::uint64_t zero_page_address = 0x7000;
inline constexpr std::uint64_t boot_stack_pointer = 0x8ff0;
inline constexpr std::uint64_t page_tables_address = 0x9000;  // PML4; PDPT and PDs follow
inline constexpr std::uint64_t page_tables_size = 6 * page_size;
inline constexpr std::uint64_t cmdline_address = 0x2'0000;
inline constexpr std::uint64_t cmdline_window = 0x1'0000;  // terminating NUL included

// --- legacy BIOS window, E820 reserved
inline constexpr std::uint64_t ebda_start = 0x9'fc00;
inline constexpr std::uint64_t high_memory_start = 0x10'0000;  // 1 MiB
inline constexpr std::uint64_t acpi_tables_address = 0xe'0000;
inline constexpr std::uint64_t acpi_tables_size = 0xf'fff0 - acpi_tables_address;  // up to the reset vector

// --- the kernel
// Linux's default LOAD_PHYSICAL_ADDR: below it the decompressor will not
// run, so RAM must hold [16 MiB, 16 MiB + init_size) whatever is loaded.
inline constexpr std::uint64_t kernel_min_address = 16 * mib;
// The boot protocol's limit for the initrd when the kernel header gives
// none (0x37FFFFFF before protocol 2.03; every 64-bit kernel says 2 GiB).
inline constexpr std::uint64_t default_initrd_addr_max = 0x7fff'ffff;

// --- the SHM region
inline constexpr std::uint64_t shm_alignment = 64 * mib;  // see the header comment

// --- the 32-bit MMIO hole
inline constexpr std::uint64_t mmio_hole_start = 3 * gib;
inline constexpr std::uint64_t mmio_hole_end = 4 * gib;
inline constexpr std::uint64_t virtio_mmio_base = 0xd000'0000;
inline constexpr std::uint64_t virtio_mmio_size = 0x1000;
// KVM's in-kernel IOAPIC has 24 pins; 16..23 are free of ISA meaning.
inline constexpr std::uint32_t virtio_first_gsi = 16;
inline constexpr std::uint32_t virtio_max_devices = 8;
inline constexpr std::uint64_t boot_timer_address = 0xd001'0000;
inline constexpr std::uint64_t boot_timer_size = 0x1000;
inline constexpr std::uint64_t ioapic_address = 0xfec0'0000;
inline constexpr std::uint64_t ioapic_size = 0x1000;
inline constexpr std::uint32_t ioapic_pins = 24;
inline constexpr std::uint64_t lapic_address = 0xfee0'0000;
inline constexpr std::uint64_t lapic_size = 0x10'0000;
// KVM_SET_IDENTITY_MAP_ADDR and KVM_SET_TSS_ADDR (Intel needs both before
// the first vCPU runs): four pages the guest must never use, reserved in E820.
inline constexpr std::uint64_t kvm_identity_map_address = 0xfffb'c000;
inline constexpr std::uint64_t kvm_tss_address = 0xfffb'd000;
inline constexpr std::uint64_t kvm_private_size = 4 * page_size;

inline constexpr std::uint64_t high_ram_start = mmio_hole_end;

// --- legacy I/O ports (16550 UARTs; the ACPI power ports are in
// acpi/sleep_control.hpp)
inline constexpr std::uint16_t com1_port = 0x3f8;
inline constexpr std::uint16_t com2_port = 0x2f8;
inline constexpr std::uint32_t com1_irq = 4;
inline constexpr std::uint32_t com2_irq = 3;

// --- limits of a request
// Local APIC ids 0..254 fit the MADT's xAPIC entries (255 is the xAPIC
// broadcast id); with a topology the ids are sparse, and topology.hpp
// keeps the highest at most 254 too.
inline constexpr std::uint32_t max_cpus = 254;
inline constexpr std::uint64_t min_memory = 128 * mib;
inline constexpr std::uint64_t max_memory = 256 * gib;
// Each NUMA node's share of RAM (the SHM region left out): Linux ignores a
// node below 4 MiB, and a node should hold more than page tables.
inline constexpr std::uint64_t min_node_memory = 32 * mib;

inline constexpr std::uint64_t virtio_mmio_address(std::uint32_t i) noexcept {
    return virtio_mmio_base + std::uint64_t{i} * virtio_mmio_size;
}

// Bad sizes or counts in a LayoutRequest; a one-line message for the user.
struct LayoutError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct LayoutRequest {
    std::uint32_t cpus = 2;
    // Empty: CpuTopology::flat(cpus). Else its vCPU count must be `cpus`;
    // its nodes split the RAM (acpi/srat.hpp).
    std::optional<CpuTopology> topology;
    // All guest memory, the SHM region included (the region is carved out
    // of it, as on aarch64). A multiple of 4 KiB.
    std::uint64_t memory_bytes = 256 * mib;
    // Non-zero, a multiple of 4 KiB.
    std::uint64_t shm_bytes = 1 * mib;
    // virtio-mmio windows, named virtio-mmio.0, virtio-mmio.1, ...
    std::uint32_t virtio_devices = 1;
    // Appended to the base command line (see base_cmdline); must not set
    // KTSTR_GUEST, KTSTR_SHM_BASE or KTSTR_SHM_SIZE itself (ktstr-init's
    // KTSTR_INIT_* options are fine).
    std::string cmdline_extra;
    // 0: no initrd.
    std::uint64_t initrd_bytes = 0;
    // From the kernel's setup header (BzImage::initrd_addr_max()).
    std::uint64_t initrd_addr_max = default_initrd_addr_max;
    // Where the kernel sits while it decompresses (BzImage::load_range());
    // the initrd is kept out of it. Empty: only the first MiB is avoided.
    GuestRange kernel{};
};

// What every x86_64 guest gets on its command line, before the KTSTR_*
// parameters and cmdline_extra:
//   console=ttyS0  kernel console on COM1 (the VMM's --console-log)
//   panic=-1       reboot at once on panic: the VMM sees the reset and
//                  reports the panic it read on the console
//   pci=off        no PCI here; skips probing the config-space ports
//   reboot=acpi    reset through the FADT's reset register. Without a
//                  reboot= option, Linux (reboot_init, efi_reboot_required)
//                  picks EFI reboot on any hardware-reduced ACPI machine,
//                  which without EFI falls back to a real-mode jump to the
//                  reset vector (see reset_vector.hpp)
//   cryptomgr.notests  the crypto self-tests of every algorithm registered
//                  at boot (crypto_algapi_init: 0.6 s of the 6.1 cloud
//                  kernel's boot in the emulated host, 0.08 s without);
//                  a test VM does not certify its crypto
// Not added: nokaslr (KASLR stays on), virtio_mmio.device= (Debian's kernel
// lacks VIRTIO_MMIO_CMDLINE_DEVICES; the DSDT describes the devices),
// quiet (the caller may add it: fewer serial exits, a faster boot).
inline constexpr const char* base_cmdline = "console=ttyS0 panic=-1 pci=off reboot=acpi cryptomgr.notests";

// The whole kernel command line: base_cmdline, KTSTR_GUEST=1, the SHM
// region's KTSTR_SHM_BASE and KTSTR_SHM_SIZE and the boot timer's
// KTSTR_BOOT_MARK when there is a region, then
// `extra` (as LayoutRequest::cmdline_extra). Without a region it is the
// line another VMM that has none gives the same image (the boot
// benchmark's QEMU), so both boot the guest the same way. Throws
// LayoutError for an extra part the VMM owns or a line too long.
std::string guest_cmdline(std::string_view extra, const std::optional<GuestRange>& shm);

// Places everything; throws LayoutError with a one-line reason when the
// request cannot be laid out: 0 or more than max_cpus CPUs, a topology
// check_topology refuses or whose vCPU count is not cpus, less than
// min_node_memory of RAM per NUMA node, memory below
// min_memory or above max_memory or not page-sized, SHM not a non-zero page
// multiple, not smaller than memory or too big for the RAM below 3 GiB,
// too many virtio devices, an initrd that does not fit, a command line
// with a NUL or one of the VMM's own KTSTR_* parameters.
//
// The result: ram sorted and disjoint, the SHM region starting at the
// 64 MiB-aligned end of a RAM range and overlapping no RAM, the virtio
// windows in the MMIO hole, the initrd page-aligned inside RAM below
// initrd_addr_max, and cmdline = base_cmdline + " KTSTR_GUEST=1
// KTSTR_SHM_BASE=0x... KTSTR_SHM_SIZE=0x... KTSTR_BOOT_MARK=0xd0010000" + " "
// + cmdline_extra.
MemoryMap layout_x86_64(const LayoutRequest& req);

}  // namespace ktstr::vmm::x86_64
