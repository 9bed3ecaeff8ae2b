// Long-mode entry state: flat segments, identity paging, RSI = zero page.
#include "arch/x86_64/boot_cpu_state.hpp"

#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64 {
namespace {

constexpr std::uint8_t type_code_execute_read_accessed = 0xb;
constexpr std::uint8_t type_data_read_write_accessed = 0x3;
constexpr std::uint8_t type_tss_64_busy = 0xb;
constexpr std::uint32_t tss_limit = 0x67;  // the 104-byte 64-bit TSS

Segment boot_code() {
    return {.base = 0, .limit = 0xffff'ffff, .selector = boot_cs_selector, .type = type_code_execute_read_accessed,
            .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1, .avl = 0, .unusable = 0};
}

Segment boot_data() {
    return {.base = 0, .limit = 0xffff'ffff, .selector = boot_ds_selector, .type = type_data_read_write_accessed,
            .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1, .avl = 0, .unusable = 0};
}

// The same flat code segment for 32-bit protected mode (the PVH entry).
Segment pvh_code() {
    Segment s = boot_code();
    s.l = 0;
    s.db = 1;
    return s;
}

// VMX requires a usable busy TSS in TR; the kernel loads its own later.
Segment boot_tss() {
    return {.base = 0, .limit = tss_limit, .selector = boot_tss_selector, .type = type_tss_64_busy,
            .present = 1, .dpl = 0, .db = 0, .s = 0, .l = 0, .g = 0, .avl = 0, .unusable = 0};
}

}  // namespace

std::uint64_t gdt_descriptor(const Segment& seg) noexcept {
    const std::uint64_t limit = seg.g ? seg.limit >> 12 : seg.limit;
    return (limit & 0xffff) | ((seg.base & 0xff'ffff) << 16) | (std::uint64_t{seg.type} & 0xf) << 40 |
           (std::uint64_t{seg.s} & 1) << 44 | (std::uint64_t{seg.dpl} & 3) << 45 |
           (std::uint64_t{seg.present} & 1) << 47 | ((limit >> 16) & 0xf) << 48 |
           (std::uint64_t{seg.avl} & 1) << 52 | (std::uint64_t{seg.l} & 1) << 53 |
           (std::uint64_t{seg.db} & 1) << 54 | (std::uint64_t{seg.g} & 1) << 55 | ((seg.base >> 24) & 0xff) << 56;
}

byte_buffer build_boot_gdt() {
    byte_buffer gdt;
    acpi::append_le<std::uint64_t>(gdt, 0);
    acpi::append_le<std::uint64_t>(gdt, 0);
    acpi::append_le(gdt, gdt_descriptor(boot_code()));
    acpi::append_le(gdt, gdt_descriptor(boot_data()));
    acpi::append_le(gdt, gdt_descriptor(boot_tss()));
    acpi::append_le(gdt, boot_tss().base >> 32);  // a long-mode system descriptor's upper half
    return gdt;
}

BootCpuState boot_cpu_state(std::uint64_t entry_64) {
    BootCpuState s;
    s.rip = entry_64;
    s.rsp = boot_stack_pointer;
    s.rbp = boot_stack_pointer;
    s.rsi = zero_page_address;
    s.cs = boot_code();
    s.ds = s.es = s.fs = s.gs = s.ss = boot_data();
    s.tr = boot_tss();
    s.ldt = {.unusable = 1};
    s.gdt = {boot_gdt_address, static_cast<std::uint16_t>(boot_gdt_size - 1)};
    s.idt = {boot_idt_address, 0};  // empty: a fault before the kernel's own IDT ends in a shutdown exit
    s.cr0 = cr0_pe | cr0_et | cr0_pg;
    s.cr3 = page_tables_address;
    s.cr4 = cr4_pae;
    s.efer = efer_lme | efer_lma;
    return s;
}

BootCpuState pvh_cpu_state(std::uint32_t entry, std::uint64_t start_info_address) {
    BootCpuState s;
    s.rip = entry;
    s.rbx = start_info_address;
    s.cs = pvh_code();
    s.ds = s.es = s.fs = s.gs = s.ss = boot_data();
    s.tr = boot_tss();  // a busy TSS type is valid for 32-bit too (0xb)
    s.ldt = {.unusable = 1};
    s.gdt = {boot_gdt_address, static_cast<std::uint16_t>(boot_gdt_size - 1)};
    s.idt = {boot_idt_address, 0};
    s.cr0 = cr0_pe | cr0_et;
    return s;
}

}  // namespace ktstr::vmm::x86_64
