// Root tables (RSDP, XSDT) and the placement of every table.
#include "arch/x86_64/acpi/acpi_tables.hpp"

#include <fmt/core.h>

#include "arch/x86_64/acpi/dsdt.hpp"
#include "arch/x86_64/acpi/fadt.hpp"
#include "arch/x86_64/acpi/madt.hpp"
#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/acpi/slit.hpp"
#include "arch/x86_64/acpi/srat.hpp"
#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64::acpi {
namespace {

constexpr std::size_t table_alignment = 16;  // the RSDP scan steps by 16 bytes
constexpr std::uint8_t xsdt_revision = 1;
constexpr std::uint8_t rsdp_revision = 2;  // ACPI 2.0+: has the XSDT address
constexpr std::size_t rsdp_checksum_offset = 8;
constexpr std::size_t rsdp_extended_checksum_offset = 32;

byte_buffer build_rsdp(std::uint64_t xsdt_address) {
    byte_buffer r;
    append_chars(r, "RSD PTR ");
    r.push_back(0);  // checksum of the first 20 bytes
    append_chars(r, oem_id);
    r.push_back(rsdp_revision);
    append_le<std::uint32_t>(r, 0);  // RsdtAddress: none
    append_le(r, static_cast<std::uint32_t>(rsdp_size));
    append_le(r, xsdt_address);
    r.push_back(0);  // extended checksum, of all 36 bytes
    r.insert(r.end(), 3, 0);
    r[rsdp_checksum_offset] = checksum(byte_view(r).first(rsdp_v1_size));
    r[rsdp_extended_checksum_offset] = checksum(r);
    return r;
}

byte_buffer build_xsdt(const std::vector<std::uint64_t>& entries) {
    byte_buffer t = begin_sdt("XSDT", xsdt_revision);
    for (std::uint64_t e : entries)
        append_le(t, e);
    finish_sdt(t);
    return t;
}

// Appends tables one after the other, each 16-byte aligned.
class Placer {
public:
    explicit Placer(AcpiTables& out) : out_(out) {}

    // Where the next table will land.
    std::uint64_t next_address() const { return out_.address + aligned_end(); }

    void place(std::string signature, const byte_buffer& table) {
        const std::size_t offset = aligned_end();
        if (offset + table.size() > acpi_tables_size)
            throw LayoutError(fmt::format("ACPI tables outgrow their {} KiB window at {}", acpi_tables_size / kib,
                                          signature));
        out_.bytes.resize(offset);
        out_.bytes.insert(out_.bytes.end(), table.begin(), table.end());
        out_.tables.push_back({std::move(signature), out_.address + offset, offset, table.size()});
    }

private:
    std::size_t aligned_end() const {
        return (out_.bytes.size() + table_alignment - 1) / table_alignment * table_alignment;
    }
    AcpiTables& out_;
};

}  // namespace

AcpiTables build_acpi_tables(const MemoryMap& map) {
    return build_acpi_tables(map, CpuTopology::flat(map.cpus));
}

AcpiTables build_acpi_tables(const MemoryMap& map, const CpuTopology& topology) {
    if (topology.cpus() != map.cpus)
        throw LayoutError(fmt::format("ACPI: the topology has {} vCPUs, the memory map {}", topology.cpus(),
                                      map.cpus));
    AcpiTables out;
    out.address = acpi_tables_address;
    out.rsdp_address = acpi_tables_address;

    // The RSDP goes first but points at the XSDT, which comes last: its
    // slot is kept and filled once every address is known.
    Placer placer(out);
    placer.place("RSD PTR ", byte_buffer(rsdp_size, 0));
    const std::uint64_t dsdt = placer.next_address();
    placer.place("DSDT", build_dsdt(map));
    const std::uint64_t fadt = placer.next_address();
    placer.place("FACP", build_fadt(dsdt));
    const std::uint64_t madt = placer.next_address();
    placer.place("APIC", build_madt(topology));
    std::vector<std::uint64_t> xsdt_entries{fadt, madt};
    // One node: no NUMA tables, the same bytes as before topologies.
    if (topology.nodes > 1) {
        xsdt_entries.push_back(placer.next_address());
        placer.place("SRAT", build_srat(map, topology));
        xsdt_entries.push_back(placer.next_address());
        placer.place("SLIT", build_slit(topology.nodes));
    }
    const std::uint64_t xsdt = placer.next_address();
    placer.place("XSDT", build_xsdt(xsdt_entries));

    const byte_buffer rsdp = build_rsdp(xsdt);
    std::copy(rsdp.begin(), rsdp.end(), out.bytes.begin());
    return out;
}

}  // namespace ktstr::vmm::x86_64::acpi
