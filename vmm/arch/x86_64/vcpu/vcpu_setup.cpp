#include "arch/x86_64/vcpu/vcpu_setup.hpp"

#include <cstring>

namespace ktstr::vmm::x86_64 {
namespace {

// MSR numbers (Intel SDM vol. 4).
constexpr std::uint32_t msr_ia32_sysenter_cs = 0x174;
constexpr std::uint32_t msr_ia32_sysenter_esp = 0x175;
constexpr std::uint32_t msr_ia32_sysenter_eip = 0x176;
constexpr std::uint32_t msr_ia32_misc_enable = 0x1a0;
constexpr std::uint32_t msr_mtrr_def_type = 0x2ff;
constexpr std::uint32_t msr_star = 0xc0000081;
constexpr std::uint32_t msr_lstar = 0xc0000082;
constexpr std::uint32_t msr_cstar = 0xc0000083;
constexpr std::uint32_t msr_syscall_mask = 0xc0000084;
constexpr std::uint32_t msr_kernel_gs_base = 0xc0000102;

constexpr std::uint64_t misc_enable_fast_string = 1;
constexpr std::uint64_t mtrr_enable = 1u << 11;
constexpr std::uint64_t mtrr_type_write_back = 6;

kvm_segment to_kvm(const x86_64::Segment& s) {
    kvm_segment k{};
    k.base = s.base;
    k.limit = s.limit;
    k.selector = s.selector;
    k.type = s.type;
    k.present = s.present;
    k.dpl = s.dpl;
    k.db = s.db;
    k.s = s.s;
    k.l = s.l;
    k.g = s.g;
    k.avl = s.avl;
    k.unusable = s.unusable;
    return k;
}

void put_u32(kvm_lapic_state& lapic, std::size_t offset, std::uint32_t v) noexcept {
    std::memcpy(lapic.regs + offset, &v, sizeof v);  // x86: little-endian, as the APIC page
}

std::uint32_t get_u32(const kvm_lapic_state& lapic, std::size_t offset) noexcept {
    std::uint32_t v;
    std::memcpy(&v, lapic.regs + offset, sizeof v);
    return v;
}

}  // namespace

std::vector<kvm_msr_entry> boot_msrs() {
    auto entry = [](std::uint32_t index, std::uint64_t data) {
        kvm_msr_entry e{};
        e.index = index;
        e.data = data;
        return e;
    };
    return {
        entry(msr_ia32_sysenter_cs, 0),
        entry(msr_ia32_sysenter_esp, 0),
        entry(msr_ia32_sysenter_eip, 0),
        entry(msr_star, 0),
        entry(msr_cstar, 0),
        entry(msr_kernel_gs_base, 0),
        entry(msr_syscall_mask, 0),
        entry(msr_lstar, 0),
        entry(msr_ia32_misc_enable, misc_enable_fast_string),
        entry(msr_mtrr_def_type, mtrr_enable | mtrr_type_write_back),
    };
}

kvm_regs boot_regs(const x86_64::BootCpuState& s) {
    kvm_regs r{};
    r.rip = s.rip;
    r.rsp = s.rsp;
    r.rbp = s.rbp;
    r.rsi = s.rsi;
    r.rbx = s.rbx;
    r.rflags = s.rflags;
    return r;
}

kvm_sregs boot_sregs(const x86_64::BootCpuState& s, const kvm_sregs& base) {
    kvm_sregs k = base;
    k.cs = to_kvm(s.cs);
    k.ds = to_kvm(s.ds);
    k.es = to_kvm(s.es);
    k.fs = to_kvm(s.fs);
    k.gs = to_kvm(s.gs);
    k.ss = to_kvm(s.ss);
    k.tr = to_kvm(s.tr);
    k.ldt = to_kvm(s.ldt);
    k.gdt.base = s.gdt.base;
    k.gdt.limit = s.gdt.limit;
    k.idt.base = s.idt.base;
    k.idt.limit = s.idt.limit;
    k.cr0 = s.cr0;
    k.cr3 = s.cr3;
    k.cr4 = s.cr4;
    k.efer = s.efer;
    return k;
}

void set_lint_modes(kvm_lapic_state& lapic) noexcept {
    // Keep every other LVT bit (mask, trigger) as KVM has it; replace the
    // delivery mode field, bits 8..10.
    constexpr std::uint32_t delivery_mask = 7u << 8;
    put_u32(lapic, apic_lvt_lint0, (get_u32(lapic, apic_lvt_lint0) & ~delivery_mask) | apic_delivery_extint);
    put_u32(lapic, apic_lvt_lint1, (get_u32(lapic, apic_lvt_lint1) & ~delivery_mask) | apic_delivery_nmi);
}

void configure_vcpu(const kvm::KvmVcpu& vcpu, std::span<const kvm_cpuid_entry2> cpuid) {
    vcpu.set_cpuid2(cpuid);
    const auto msrs = boot_msrs();
    vcpu.set_msrs(msrs);
    auto lapic = vcpu.lapic();
    set_lint_modes(lapic);
    vcpu.set_lapic(lapic);
}

void load_boot_state(const kvm::KvmVcpu& vcpu, const x86_64::BootCpuState& s) {
    vcpu.set_sregs(boot_sregs(s, vcpu.sregs()));
    vcpu.set_regs(boot_regs(s));
    kvm_fpu fpu{};
    fpu.fcw = 0x37f;     // x87 default control word (FNINIT)
    fpu.mxcsr = 0x1f80;  // SSE default: all exceptions masked
    vcpu.set_fpu(fpu);
}

}  // namespace ktstr::vmm::x86_64
