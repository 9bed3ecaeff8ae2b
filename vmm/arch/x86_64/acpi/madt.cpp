// MADT: local APICs, the IOAPIC, ISA overrides, LINT1 NMI.
#include "arch/x86_64/acpi/madt.hpp"

#include <fmt/core.h>

#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64::acpi {
namespace {

constexpr std::uint32_t pcat_compat = 1;
constexpr std::uint32_t lapic_enabled = 1;
constexpr std::uint8_t ioapic_id = 0;
// MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2; 0 = bus default.
constexpr std::uint16_t inti_bus_default = 0;
constexpr std::uint16_t inti_active_high_level = 0x1 | (0x3 << 2);
constexpr std::uint8_t all_processors = 0xff;

void local_apic(byte_buffer& t, std::uint8_t uid, std::uint8_t apic_id) {
    t.push_back(madt_local_apic);
    t.push_back(8);
    t.push_back(uid);
    t.push_back(apic_id);
    append_le(t, lapic_enabled);
}

void io_apic(byte_buffer& t) {
    t.push_back(madt_io_apic);
    t.push_back(12);
    t.push_back(ioapic_id);
    t.push_back(0);
    append_le(t, static_cast<std::uint32_t>(ioapic_address));
    append_le<std::uint32_t>(t, 0);  // global system interrupt base
}

void interrupt_override(byte_buffer& t, std::uint8_t isa_irq, std::uint32_t gsi, std::uint16_t flags) {
    t.push_back(madt_interrupt_override);
    t.push_back(10);
    t.push_back(0);  // bus: ISA
    t.push_back(isa_irq);
    append_le(t, gsi);
    append_le(t, flags);
}

void local_apic_nmi(byte_buffer& t) {
    t.push_back(madt_local_apic_nmi);
    t.push_back(6);
    t.push_back(all_processors);
    append_le(t, inti_bus_default);
    t.push_back(1);  // LINT1
}

}  // namespace

byte_buffer build_madt(const CpuTopology& topology) {
    try {
        check_topology(topology);
    } catch (const std::invalid_argument& e) {
        throw LayoutError(fmt::format("MADT: {}", e.what()));
    }
    const auto cpus = static_cast<std::uint32_t>(topology.cpus());
    byte_buffer t = begin_sdt("APIC", madt_revision);
    append_le(t, static_cast<std::uint32_t>(lapic_address));
    append_le(t, pcat_compat);
    for (std::uint32_t i = 0; i < cpus; ++i)
        local_apic(t, static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(topology.apic_id(i)));
    io_apic(t);
    interrupt_override(t, 0, 2, inti_bus_default);
    interrupt_override(t, 9, 9, inti_active_high_level);
    local_apic_nmi(t);
    finish_sdt(t);
    return t;
}

}  // namespace ktstr::vmm::x86_64::acpi
