// The boot vCPU's state at the kernel's 64-bit entry point (a bzImage) or
// at its 32-bit PVH entry point (a vmlinux), as plain data.
//
// The 64-bit boot protocol wants: long mode with paging on and an identity
// map covering the kernel, the zero page and the command line; a GDT with
// flat __BOOT_CS (selector 0x10, 64-bit code) and __BOOT_DS (0x18, data);
// CS = __BOOT_CS and DS = ES = SS = __BOOT_DS; interrupts off; RSI = the
// zero page. The decompressor then builds its own page tables and GDT.
//
// The KVM integration copies these fields into struct kvm_sregs and struct
// kvm_regs (KVM_SET_SREGS, KVM_SET_REGS) on vCPU 0 only: the others wait
// for the kernel's INIT/SIPI in KVM's in-kernel local APIC.
#pragma once

#include <cstdint>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64 {

// Mirrors struct kvm_segment: `limit` in bytes (the descriptor's 20-bit
// limit scaled by the granularity bit).
struct Segment {
    std::uint64_t base = 0;
    std::uint32_t limit = 0;
    std::uint16_t selector = 0;
    std::uint8_t type = 0;
    std::uint8_t present = 0;
    std::uint8_t dpl = 0;
    std::uint8_t db = 0;
    std::uint8_t s = 0;
    std::uint8_t l = 0;
    std::uint8_t g = 0;
    std::uint8_t avl = 0;
    std::uint8_t unusable = 0;
};

struct DescriptorTable {
    std::uint64_t base = 0;
    std::uint16_t limit = 0;
};

inline constexpr std::uint16_t boot_cs_selector = 0x10;  // __BOOT_CS
inline constexpr std::uint16_t boot_ds_selector = 0x18;  // __BOOT_DS
inline constexpr std::uint16_t boot_tss_selector = 0x20;  // a 16-byte long-mode TSS descriptor
inline constexpr std::size_t boot_gdt_size = 6 * 8;       // null, null, code, data, TSS (two slots)

inline constexpr std::uint64_t cr0_pe = 1ULL << 0;
inline constexpr std::uint64_t cr0_et = 1ULL << 4;
inline constexpr std::uint64_t cr0_pg = 1ULL << 31;
inline constexpr std::uint64_t cr4_pae = 1ULL << 5;
inline constexpr std::uint64_t efer_lme = 1ULL << 8;
inline constexpr std::uint64_t efer_lma = 1ULL << 10;
inline constexpr std::uint64_t rflags_reserved = 1ULL << 1;  // bit 1 always reads 1; IF clear

struct BootCpuState {
    // struct kvm_regs (all others zero)
    std::uint64_t rip = 0;
    std::uint64_t rsp = 0;
    std::uint64_t rbp = 0;
    std::uint64_t rsi = 0;
    std::uint64_t rbx = 0;
    std::uint64_t rflags = rflags_reserved;
    // struct kvm_sregs (apic_base, cr2, cr8 and interrupt_bitmap left as KVM has them)
    Segment cs, ds, es, fs, gs, ss, tr, ldt;
    DescriptorTable gdt, idt;
    std::uint64_t cr0 = 0;
    std::uint64_t cr3 = 0;
    std::uint64_t cr4 = 0;
    std::uint64_t efer = 0;
};

// Entry at `entry_64` (BzImage::entry_64()) with the zero page, GDT, IDT,
// stack and page tables at their layout.hpp addresses.
BootCpuState boot_cpu_state(std::uint64_t entry_64);

// Entry at a PVH kernel's 32-bit `entry` (vmlinux.hpp): protected mode
// with paging off, flat 32-bit code (__BOOT_CS) and data (__BOOT_DS),
// CR0.PE, interrupts off, EBX = the hvm_start_info's address
// (pvh_start_info.hpp). The kernel loads its own GDT and page tables first.
BootCpuState pvh_cpu_state(std::uint32_t entry, std::uint64_t start_info_address);

// The 8-byte GDT descriptor for a code or data segment (s = 1), or the low
// half of a system descriptor (s = 0).
std::uint64_t gdt_descriptor(const Segment& seg) noexcept;

// The GDT bytes for boot_gdt_address, consistent with boot_cpu_state's
// segments (boot_gdt_size bytes).
byte_buffer build_boot_gdt();

}  // namespace ktstr::vmm::x86_64
