// All ACPI tables of one VM, laid out for the guest's legacy BIOS window.
//
// The kernel finds the RSDP through boot_params.acpi_rsdp_addr and, failing
// that, by scanning 0xE0000..0xFFFFF, where the RSDP sits on a 16-byte
// boundary. The RSDP (revision 2) points at the XSDT only (no RSDT); the
// XSDT lists the FADT and the MADT, and with more than one NUMA node the
// SRAT and the SLIT; the FADT points at the DSDT.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/topology.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64::acpi {

inline constexpr std::size_t rsdp_size = 36;
inline constexpr std::size_t rsdp_v1_size = 20;  // what the first checksum covers

struct AcpiTable {
    std::string signature;   // "RSD PTR ", "XSDT", "FACP", "APIC", "DSDT", "SRAT", "SLIT"
    std::uint64_t address;   // guest-physical
    std::size_t offset;      // into AcpiTables::bytes
    std::size_t size;
};

struct AcpiTables {
    std::uint64_t address = 0;  // guest-physical address of bytes[0]
    byte_buffer bytes;          // to be written there; at most acpi_tables_size
    std::uint64_t rsdp_address = 0;
    std::vector<AcpiTable> tables;  // in the order they sit in `bytes`

    byte_view table(const AcpiTable& t) const { return byte_view(bytes).subspan(t.offset, t.size); }
};

// Builds RSDP, XSDT, FADT, MADT and DSDT (and SRAT and SLIT for more than
// one node) for `map` (its RAM, cpus and mmio windows) and `topology` (its
// vCPU count must be map.cpus) at acpi_tables_address. Throws LayoutError when the map cannot be
// described (see build_madt, build_dsdt) or the tables outgrow the window.
AcpiTables build_acpi_tables(const MemoryMap& map, const CpuTopology& topology);
// The same for CpuTopology::flat(map.cpus).
AcpiTables build_acpi_tables(const MemoryMap& map);

}  // namespace ktstr::vmm::x86_64::acpi
