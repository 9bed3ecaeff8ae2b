// Everything the VMM writes into guest memory before vCPU 0 first runs, and
// vCPU 0's registers: the x86_64 boot in one value.
//
//   auto kernel = BzImage::read(path);
//   auto map = layout_x86_64({..., .initrd_bytes = initrd.size(),
//                             .initrd_addr_max = kernel.initrd_addr_max(),
//                             .kernel = kernel.load_range()});
//   auto plan = plan_boot(kernel, map, initrd);
//   for (const GuestWrite& w : plan.writes()) guest_memory.write(w.address, w.bytes);
//   set_registers(vcpu0, plan.cpu());
//
// What the VMM must provide besides the plan (seen booting Debian's 6.1
// kernel on these tables):
//  - KVM_SET_IDENTITY_MAP_ADDR = kvm_identity_map_address and
//    KVM_SET_TSS_ADDR = kvm_tss_address before the first vCPU runs; vCPU i
//    gets APIC id i (the MADT says so);
//  - kvmclock in CPUID (KVM's paravirt leaves): hardware-reduced ACPI gives
//    Linux no PIT or HPET clock, and without a known TSC frequency it hangs
//    calibrating the local APIC timer;
//  - reads of unhandled ports return 0xFF except the keyboard controller's
//    status port 0x64, which must read 0 (the reboot fallback polls it);
//    CMOS 0x70/0x71 reads of 0xFF cost about a second without kvmclock;
//  - port writes in 0x600..0x602 go through acpi::decode_power_write;
//    KVM_EXIT_SHUTDOWN (triple fault) is a reset.
//
// Writes: GDT, zero page, page tables, command line (NUL-terminated), ACPI
// tables, the reset-vector stub, the protected-mode kernel at its load
// address, the initrd (a vmlinux: its segments, and the PVH start info in
// place of the zero page and page tables). They
// are disjoint and each lies inside one MemoryMap::ram range; the caller
// still bounds-checks them against its own mapping.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/acpi/acpi_tables.hpp"
#include "arch/x86_64/boot_cpu_state.hpp"
#include "arch/x86_64/bzimage.hpp"
#include "arch/x86_64/e820.hpp"
#include "arch/x86_64/vmlinux.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64 {

struct GuestWrite {
    std::uint64_t address = 0;
    byte_view bytes;
    std::string_view what;  // "zero page", "kernel", ...
};

class BootPlan {
public:
    // The write views point into this plan and into the BzImage and initrd
    // the plan was made from: all three must outlive the writes. Moving a
    // plan keeps them valid; copying is disabled.
    const std::vector<GuestWrite>& writes() const noexcept { return writes_; }
    const BootCpuState& cpu() const noexcept { return cpu_; }
    const std::vector<E820Entry>& e820() const noexcept { return e820_; }
    const acpi::AcpiTables& acpi() const noexcept { return acpi_; }
    byte_view zero_page() const noexcept { return zero_page_; }

    BootPlan(BootPlan&&) noexcept = default;
    BootPlan& operator=(BootPlan&&) noexcept = default;
    BootPlan(const BootPlan&) = delete;
    BootPlan& operator=(const BootPlan&) = delete;

private:
    BootPlan() = default;
    friend BootPlan plan_boot(const BzImage&, const MemoryMap&, byte_view, const CpuTopology&);
    friend BootPlan plan_boot(const Vmlinux&, const MemoryMap&, byte_view, const CpuTopology&);
    // What both kinds of kernel share: tables, GDT, command line, initrd.
    static BootPlan common(const MemoryMap& map, byte_view initrd, const CpuTopology& topology);

    std::vector<GuestWrite> writes_;
    BootCpuState cpu_;
    std::vector<E820Entry> e820_;
    acpi::AcpiTables acpi_;
    byte_buffer gdt_, zero_page_, page_tables_, cmdline_, reset_vector_, pvh_start_info_;
};

// Throws std::invalid_argument (LayoutError, BzImageError or plain) with a
// one-line reason when the pieces do not fit together: the kernel's
// decompression range not inside RAM or overlapping the initrd, the initrd
// size differing from the map's, above the kernel's initrd_addr_max or
// outside RAM, the command line too long for this kernel.
BootPlan plan_boot(const BzImage& kernel, const MemoryMap& map, byte_view initrd, const CpuTopology& topology);
// The same for CpuTopology::flat(map.cpus).
BootPlan plan_boot(const BzImage& kernel, const MemoryMap& map, byte_view initrd);

// A vmlinux entered through PVH: its segments at their addresses, the PVH
// start info instead of a zero page, no page tables (paging is off at the
// entry). The same refusals, with the command line bounded by Linux's
// COMMAND_LINE_SIZE (a vmlinux has no header to say otherwise).
BootPlan plan_boot(const Vmlinux& kernel, const MemoryMap& map, byte_view initrd, const CpuTopology& topology);

// Linux's x86 COMMAND_LINE_SIZE.
inline constexpr std::size_t pvh_cmdline_max = 2048;

}  // namespace ktstr::vmm::x86_64
