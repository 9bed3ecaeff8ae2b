#include <catch2/catch.hpp>

#include <cstring>

#include "arch/x86_64/boot_cpu_state.hpp"
#include "arch/x86_64/layout.hpp"
#include "arch/x86_64/vcpu/vcpu_setup.hpp"

using namespace ktstr::vmm;

namespace {

std::uint32_t lapic_reg(const kvm_lapic_state& s, std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, s.regs + off, 4);
    return v;
}

}  // namespace

TEST_CASE("boot_sregs copies the boot state and keeps what it leaves alone") {
    const auto state = x86_64::boot_cpu_state(0x1000200);
    kvm_sregs base{};
    base.apic_base = 0xfee00900;
    base.cr8 = 3;
    const auto s = x86_64::boot_sregs(state, base);
    CHECK(s.apic_base == 0xfee00900);
    CHECK(s.cr8 == 3);
    CHECK(s.cs.selector == x86_64::boot_cs_selector);
    CHECK(s.cs.l == 1);
    CHECK(s.ds.selector == x86_64::boot_ds_selector);
    CHECK(s.cr0 == state.cr0);
    CHECK((s.cr0 & x86_64::cr0_pg) != 0);
    CHECK(s.cr3 == state.cr3);
    CHECK((s.efer & x86_64::efer_lma) != 0);
    CHECK(s.gdt.base == state.gdt.base);
    CHECK(s.gdt.limit == state.gdt.limit);

    const auto r = x86_64::boot_regs(state);
    CHECK(r.rip == 0x1000200);
    CHECK(r.rsi == x86_64::zero_page_address);
    CHECK(r.rflags == x86_64::rflags_reserved);
}

TEST_CASE("set_lint_modes makes LINT0 ExtINT and LINT1 NMI, keeping the other LVT bits") {
    kvm_lapic_state s{};
    const std::uint32_t masked = 1u << 16;
    std::memcpy(s.regs + x86_64::apic_lvt_lint0, &masked, 4);
    const std::uint32_t fixed = 0x000000ef;
    std::memcpy(s.regs + x86_64::apic_lvt_lint1, &fixed, 4);
    x86_64::set_lint_modes(s);
    CHECK(lapic_reg(s, x86_64::apic_lvt_lint0) == (masked | x86_64::apic_delivery_extint));
    CHECK(lapic_reg(s, x86_64::apic_lvt_lint1) == (0xefu | x86_64::apic_delivery_nmi));
}

TEST_CASE("boot MSRs: fast strings on and write-back MTRR default") {
    bool misc = false, mtrr = false;
    for (const auto& m : x86_64::boot_msrs()) {
        if (m.index == 0x1a0) {
            misc = true;
            CHECK(m.data == 1);
        }
        if (m.index == 0x2ff) {
            mtrr = true;
            CHECK(m.data == ((1u << 11) | 6));
        }
    }
    CHECK(misc);
    CHECK(mtrr);
}
