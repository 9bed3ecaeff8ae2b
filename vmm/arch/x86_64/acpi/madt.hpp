// The MADT (signature "APIC"): how Linux finds the CPUs and the IOAPIC.
//
// Debian's kernel has no MP-table parser (X86_MPPARSE off), so this table
// is the only CPU enumeration. Entries (ACPI 6.3 §5.2.12):
//   one Processor Local APIC per vCPU, in vCPU order: ACPI processor UID
//     i, the topology's APIC id for vCPU i (the id KVM gives it, see
//     Machine), enabled. The ids stay at most 254 (topology.hpp), so xAPIC
//     entries describe every topology; no x2APIC entries.
//   the IOAPIC: id 0, at ioapic_address, GSIs from 0
//   Interrupt Source Overrides: ISA IRQ 0 -> GSI 2 (the PIT's line on the
//     IOAPIC) and IRQ 9 -> GSI 9 level, active high (the SCI), as on PCs
//   Local APIC NMI: LINT1 of every processor
// Flags: PCAT_COMPAT (KVM's in-kernel irqchip includes the 8259 pair).
#pragma once

#include <cstdint>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/topology.hpp"

namespace ktstr::vmm::x86_64::acpi {

inline constexpr std::uint8_t madt_revision = 5;  // ACPI 6.3
inline constexpr std::uint8_t madt_local_apic = 0;
inline constexpr std::uint8_t madt_io_apic = 1;
inline constexpr std::uint8_t madt_interrupt_override = 2;
inline constexpr std::uint8_t madt_local_apic_nmi = 4;
inline constexpr std::size_t madt_entries_offset = 44;  // after the header, LAPIC address and flags

// Throws LayoutError for a topology check_topology refuses.
byte_buffer build_madt(const CpuTopology& topology);

}  // namespace ktstr::vmm::x86_64::acpi
