// The ACPI tables: checksums, lengths, links between tables, MADT entries,
// FADT fields, and the DSDT's devices.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "arch/x86_64/acpi/acpi_tables.hpp"
#include "arch/x86_64/acpi/fadt.hpp"
#include "arch/x86_64/acpi/madt.hpp"
#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/acpi/sleep_control.hpp"
#include "arch/x86_64/acpi/slit.hpp"
#include "arch/x86_64/acpi/srat.hpp"
#include "arch/x86_64/layout.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::x86_64;
using namespace ktstr::vmm::x86_64::acpi;

namespace {

const AcpiTable& find(const AcpiTables& t, const std::string& sig) {
    auto it = std::find_if(t.tables.begin(), t.tables.end(), [&](const AcpiTable& x) { return x.signature == sig; });
    REQUIRE(it != t.tables.end());
    return *it;
}

template <typename T>
T at(byte_view b, std::size_t offset) {
    REQUIRE(offset + sizeof(T) <= b.size());
    return load_le<T>(b.data() + offset);
}

bool contains(byte_view hay, std::string_view needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

MemoryMap map_with(std::uint32_t cpus, std::uint32_t virtio) {
    LayoutRequest r;
    r.cpus = cpus;
    r.virtio_devices = virtio;
    return layout_x86_64(r);
}

MemoryMap map_for(const CpuTopology& topo, std::uint64_t memory_bytes) {
    LayoutRequest r;
    r.cpus = static_cast<std::uint32_t>(topo.cpus());
    r.topology = topo;
    r.memory_bytes = memory_bytes;
    return layout_x86_64(r);
}

// (APIC id, node) of each Processor Local APIC Affinity, and the Memory
// Affinity entries, of an SRAT; checks each entry's length and flags.
struct ParsedSrat {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> cpus;
    std::vector<NodeMemory> memory;
};

ParsedSrat parse_srat(byte_view srat) {
    ParsedSrat p;
    CHECK(srat[8] == 3);  // revision
    CHECK(at<std::uint32_t>(srat, 36) == 1);
    std::size_t off = srat_entries_offset;
    while (off < srat.size()) {
        REQUIRE(off + 2 <= srat.size());
        const std::uint8_t type = srat[off], len = srat[off + 1];
        REQUIRE(off + len <= srat.size());
        if (type == srat_local_apic_affinity) {
            REQUIRE(len == 16);
            const std::uint32_t node = srat[off + 2] | (std::uint32_t{srat[off + 9]} << 8) |
                                       (std::uint32_t{srat[off + 10]} << 16) | (std::uint32_t{srat[off + 11]} << 24);
            CHECK(at<std::uint32_t>(srat, off + 4) == 1);  // enabled
            p.cpus.push_back({srat[off + 3], node});
        } else if (type == srat_memory_affinity) {
            REQUIRE(len == 40);
            CHECK(at<std::uint32_t>(srat, off + 28) == 1);  // enabled, not hot-pluggable
            const GuestRange range{at<std::uint64_t>(srat, off + 8), at<std::uint64_t>(srat, off + 16)};
            p.memory.push_back({at<std::uint32_t>(srat, off + 2), range});
        } else {
            FAIL("unexpected SRAT entry type " << int(type));
        }
        off += len;
    }
    CHECK(off == srat.size());
    return p;
}

// APIC ids of the MADT's Processor Local APIC entries, in table order.
std::vector<std::uint32_t> madt_apic_ids(byte_view madt) {
    std::vector<std::uint32_t> ids;
    for (std::size_t off = madt_entries_offset; off + 2 <= madt.size(); off += madt[off + 1]) {
        REQUIRE(madt[off + 1] >= 2);
        if (madt[off] == madt_local_apic) {
            CHECK(madt[off + 2] == ids.size());  // processor UID
            ids.push_back(madt[off + 3]);
        }
    }
    return ids;
}

}  // namespace

TEST_CASE("every table checksums to zero and its length field is its size", "[x86_64][acpi]") {
    for (std::uint32_t cpus : {1u, 2u, 4u, 64u, 254u}) {
        for (std::uint32_t virtio : {0u, 1u, 8u}) {
            INFO(cpus << " cpus, " << virtio << " virtio devices");
            const AcpiTables t = build_acpi_tables(map_with(cpus, virtio));
            CHECK(t.address == 0xe0000);
            CHECK(t.bytes.size() <= acpi_tables_size);
            REQUIRE(t.tables.size() == 5);
            for (const AcpiTable& x : t.tables) {
                INFO(x.signature);
                CHECK(x.address % 16 == 0);
                CHECK(x.address == t.address + x.offset);
                const byte_view b = t.table(x);
                if (x.signature == "RSD PTR ") {
                    CHECK(byte_sum(b.first(rsdp_v1_size)) == 0);
                    CHECK(byte_sum(b) == 0);
                    CHECK(at<std::uint32_t>(b, 20) == rsdp_size);
                } else {
                    CHECK(byte_sum(b) == 0);
                    CHECK(at<std::uint32_t>(b, 4) == b.size());
                    CHECK(std::string(b.begin(), b.begin() + 4) == x.signature);
                }
            }
        }
    }
}

TEST_CASE("RSDP -> XSDT -> FADT, MADT; FADT -> DSDT", "[x86_64][acpi]") {
    const AcpiTables t = build_acpi_tables(map_with(2, 1));
    const byte_view rsdp = t.table(find(t, "RSD PTR "));
    CHECK(t.rsdp_address == 0xe0000);
    CHECK(std::string(rsdp.begin(), rsdp.begin() + 8) == "RSD PTR ");
    CHECK(rsdp[15] == 2);                          // revision
    CHECK(at<std::uint32_t>(rsdp, 16) == 0);       // no RSDT
    CHECK(at<std::uint64_t>(rsdp, 24) == find(t, "XSDT").address);

    const byte_view xsdt = t.table(find(t, "XSDT"));
    REQUIRE(xsdt.size() == 36 + 2 * 8);
    CHECK(at<std::uint64_t>(xsdt, 36) == find(t, "FACP").address);
    CHECK(at<std::uint64_t>(xsdt, 44) == find(t, "APIC").address);

    const byte_view fadt = t.table(find(t, "FACP"));
    CHECK(at<std::uint64_t>(fadt, fadt_x_dsdt_offset) == find(t, "DSDT").address);
}

TEST_CASE("FADT: hardware-reduced with sleep control, sleep status and reset registers", "[x86_64][acpi]") {
    const AcpiTables t = build_acpi_tables(map_with(2, 1));
    const byte_view fadt = t.table(find(t, "FACP"));
    REQUIRE(fadt.size() == fadt_size);
    CHECK(fadt[8] == 6);  // revision
    const auto flags = at<std::uint32_t>(fadt, fadt_flags_offset);
    CHECK((flags & fadt_flag_hw_reduced) != 0);
    CHECK((flags & fadt_flag_reset_reg_sup) != 0);
    const auto iapc = at<std::uint16_t>(fadt, fadt_iapc_boot_arch_offset);
    CHECK((iapc & 0x2) == 0);  // no 8042
    CHECK((iapc & iapc_cmos_rtc_not_present) != 0);

    auto check_io_register = [&](std::size_t offset, std::uint16_t port) {
        CHECK(fadt[offset] == 1);      // system I/O
        CHECK(fadt[offset + 1] == 8);  // bit width
        CHECK(fadt[offset + 3] == 1);  // byte access
        CHECK(at<std::uint64_t>(fadt, offset + 4) == port);
    };
    check_io_register(fadt_sleep_control_offset, sleep_control_port);
    check_io_register(fadt_sleep_status_offset, sleep_status_port);
    check_io_register(fadt_reset_reg_offset, reset_port);
    CHECK(fadt[fadt_reset_value_offset] == reset_value);
}

TEST_CASE("MADT: one enabled local APIC per CPU with APIC id = index, the IOAPIC, overrides", "[x86_64][acpi]") {
    for (std::uint32_t cpus : {1u, 3u, 254u}) {
        INFO(cpus << " cpus");
        const AcpiTables t = build_acpi_tables(map_with(cpus, 1));
        const byte_view madt = t.table(find(t, "APIC"));
        CHECK(at<std::uint32_t>(madt, 36) == lapic_address);
        std::uint32_t lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
        std::size_t off = madt_entries_offset;
        while (off < madt.size()) {
            REQUIRE(off + 2 <= madt.size());
            const std::uint8_t type = madt[off], len = madt[off + 1];
            REQUIRE(len >= 2);
            REQUIRE(off + len <= madt.size());
            if (type == madt_local_apic) {
                REQUIRE(len == 8);
                CHECK(madt[off + 2] == lapics);  // processor UID
                CHECK(madt[off + 3] == lapics);  // APIC id
                CHECK(at<std::uint32_t>(madt, off + 4) == 1);
                ++lapics;
            } else if (type == madt_io_apic) {
                REQUIRE(len == 12);
                CHECK(at<std::uint32_t>(madt, off + 4) == ioapic_address);
                CHECK(at<std::uint32_t>(madt, off + 8) == 0);
                ++ioapics;
            } else if (type == madt_interrupt_override) {
                REQUIRE(len == 10);
                const std::uint8_t irq = madt[off + 3];
                const auto gsi = at<std::uint32_t>(madt, off + 4);
                const auto flags = at<std::uint16_t>(madt, off + 8);
                if (irq == 0) {
                    CHECK(gsi == 2);
                    CHECK(flags == 0);
                } else {
                    CHECK(irq == 9);
                    CHECK(gsi == 9);
                    CHECK(flags == 0x0d);  // active high, level
                }
                ++overrides;
            } else if (type == madt_local_apic_nmi) {
                REQUIRE(len == 6);
                CHECK(madt[off + 5] == 1);  // LINT1
                ++nmis;
            }
            off += len;
        }
        CHECK(off == madt.size());
        CHECK(lapics == cpus);
        CHECK(ioapics == 1);
        CHECK(overrides == 2);
        CHECK(nmis == 1);
    }
}

TEST_CASE("DSDT: LNRO0005 devices with their windows and GSIs, COM ports, _S5", "[x86_64][acpi]") {
    const MemoryMap m = map_with(2, 3);
    const AcpiTables t = build_acpi_tables(m);
    const byte_view dsdt = t.table(find(t, "DSDT"));
    CHECK(dsdt[8] == 2);  // revision 2: 64-bit integers
    for (const char* s : {"_SB_", "V000", "V001", "V002", "COM1", "COM2", "_S5_", "LNRO0005", "_CRS"})
        CHECK(contains(dsdt, s));
    CHECK_FALSE(contains(dsdt, "V003"));
    for (const MmioDevice& d : m.mmio) {
        const byte_buffer mem{0x86, 0x09, 0x00, 0x01, static_cast<std::uint8_t>(d.window.start),
                              static_cast<std::uint8_t>(d.window.start >> 8),
                              static_cast<std::uint8_t>(d.window.start >> 16),
                              static_cast<std::uint8_t>(d.window.start >> 24)};
        CHECK(std::search(dsdt.begin(), dsdt.end(), mem.begin(), mem.end()) != dsdt.end());
        const byte_buffer irq{0x89, 0x06, 0x00, 0x03, 0x01, static_cast<std::uint8_t>(d.irq), 0, 0, 0};
        CHECK(std::search(dsdt.begin(), dsdt.end(), irq.begin(), irq.end()) != dsdt.end());
    }
}

TEST_CASE("ACPI refuses maps it cannot describe", "[x86_64][acpi]") {
    MemoryMap m = map_with(2, 1);
    SECTION("a virtio window above 4 GiB") {
        m.mmio[0].window.start = 5 * gib;
        CHECK_THROWS_AS(build_acpi_tables(m), LayoutError);
    }
    SECTION("a GSI beyond the IOAPIC") {
        m.mmio[0].irq = 24;
        CHECK_THROWS_AS(build_acpi_tables(m), LayoutError);
    }
    SECTION("no CPUs") {
        m.cpus = 0;
        CHECK_THROWS_AS(build_acpi_tables(m), LayoutError);
    }
    SECTION("too many CPUs") {
        m.cpus = 255;
        CHECK_THROWS_AS(build_acpi_tables(m), LayoutError);
    }
}

TEST_CASE("one NUMA node: the tables are the flat ones, byte for byte", "[x86_64][acpi]") {
    const MemoryMap m = map_with(4, 1);
    const AcpiTables flat = build_acpi_tables(m);
    CHECK(build_acpi_tables(m, CpuTopology::flat(4)).bytes == flat.bytes);
    // A dense one-node topology has the same APIC ids, so the same MADT.
    CHECK(build_acpi_tables(m, CpuTopology{1, 1, 2, 2}).bytes == flat.bytes);
    const AcpiTables sparse = build_acpi_tables(map_with(6, 1), CpuTopology{1, 2, 3, 1});
    REQUIRE(sparse.tables.size() == 5);
    CHECK(madt_apic_ids(sparse.table(find(sparse, "APIC"))) == std::vector<std::uint32_t>{0, 1, 2, 4, 5, 6});
    CHECK_THROWS_AS(build_acpi_tables(m, CpuTopology{1, 1, 3, 1}), LayoutError);  // 3 vCPUs, the map has 4
}

TEST_CASE("NUMA topologies: MADT ids, SRAT affinities and SLIT distances parse back", "[x86_64][acpi]") {
    const std::vector<CpuTopology> topologies{{2, 1, 2, 2}, {2, 2, 2, 1}, {3, 1, 3, 3}, {4, 2, 1, 2}, {7, 1, 1, 1}};
    for (const CpuTopology& topo : topologies) {
        for (std::uint64_t memory : {256 * mib, 3 * gib, 4 * gib, 4 * gib + 6 * mib}) {
            INFO(topo.nodes << "," << topo.llcs_per_node << "," << topo.cores_per_llc << "," << topo.threads_per_core
                            << " with " << memory / mib << " MiB");
            const MemoryMap m = map_for(topo, memory);
            const AcpiTables t = build_acpi_tables(m, topo);
            REQUIRE(t.tables.size() == 7);
            for (const AcpiTable& x : t.tables)
                if (x.signature != "RSD PTR ")
                    CHECK(byte_sum(t.table(x)) == 0);

            const byte_view xsdt = t.table(find(t, "XSDT"));
            REQUIRE(xsdt.size() == 36 + 4 * 8);
            CHECK(at<std::uint64_t>(xsdt, 52) == find(t, "SRAT").address);
            CHECK(at<std::uint64_t>(xsdt, 60) == find(t, "SLIT").address);

            const auto ids = madt_apic_ids(t.table(find(t, "APIC")));
            REQUIRE(ids.size() == topo.cpus());
            for (std::uint32_t i = 0; i < ids.size(); ++i)
                CHECK(ids[i] == topo.apic_id(i));

            const ParsedSrat srat = parse_srat(t.table(find(t, "SRAT")));
            REQUIRE(srat.cpus.size() == topo.cpus());
            for (std::uint32_t i = 0; i < srat.cpus.size(); ++i) {
                CHECK(srat.cpus[i].first == topo.apic_id(i));
                CHECK(srat.cpus[i].second == topo.place(i).node);
            }
            // Every RAM byte in exactly one node: the pieces, in address
            // order, are the RAM ranges cut up, each inside one range.
            std::vector<std::uint64_t> per_node(topo.nodes);
            std::size_t piece = 0;
            for (const GuestRange& r : m.ram) {
                std::uint64_t at_addr = r.start;
                while (at_addr < r.end()) {
                    REQUIRE(piece < srat.memory.size());
                    const NodeMemory& n = srat.memory[piece++];
                    CHECK(n.range.start == at_addr);
                    CHECK(n.range.size > 0);
                    CHECK(n.range.end() <= r.end());
                    REQUIRE(n.node < topo.nodes);
                    per_node[n.node] += n.range.size;
                    at_addr = n.range.end();
                }
            }
            CHECK(piece == srat.memory.size());
            for (std::size_t i = 1; i < srat.memory.size(); ++i)
                CHECK(srat.memory[i].node >= srat.memory[i - 1].node);  // node 0 lowest
            const std::uint64_t share = m.ram_bytes() / topo.nodes;
            for (std::uint32_t n = 0; n < topo.nodes; ++n) {
                INFO("node " << n << ": " << per_node[n] << " bytes, share " << share);
                CHECK(per_node[n] + 2 * mib >= share);
                CHECK(per_node[n] <= share + 2 * mib * topo.nodes);
            }

            const byte_view slit = t.table(find(t, "SLIT"));
            CHECK(slit[8] == 1);
            REQUIRE(at<std::uint64_t>(slit, 36) == topo.nodes);
            REQUIRE(slit.size() == slit_matrix_offset + topo.nodes * topo.nodes);
            for (std::uint32_t i = 0; i < topo.nodes; ++i)
                for (std::uint32_t j = 0; j < topo.nodes; ++j)
                    CHECK(slit[slit_matrix_offset + i * topo.nodes + j] == (i == j ? 10 : 20));
        }
    }
}

TEST_CASE("node_memory: the split of 2 nodes over a map with the SHM gap", "[x86_64][acpi]") {
    const MemoryMap m = map_for(CpuTopology{2, 1, 2, 2}, 256 * mib);
    // RAM [0, 0xC00_0000) and [0xC20_0000, 0x1010_0000): 255 MiB in all.
    REQUIRE(m.ram.size() == 2);
    const auto nodes = node_memory(m, 2);
    REQUIRE(nodes.size() == 3);
    CHECK(nodes[0] == NodeMemory{0, {0, 0x7e0'0000}});  // 126 MiB: 127.5 rounded down to 2 MiB
    CHECK(nodes[1] == NodeMemory{1, {0x7e0'0000, 0xc00'0000 - 0x7e0'0000}});
    CHECK(nodes[2] == NodeMemory{1, m.ram[1]});
    CHECK_THROWS_AS(node_memory(m, 0), LayoutError);
    CHECK_THROWS_AS(node_memory(m, 200), LayoutError);  // under 2 MiB each: some node gets nothing
}

TEST_CASE("the layout refuses a NUMA node with less than min_node_memory", "[x86_64][acpi]") {
    CHECK_THROWS_WITH(map_for(CpuTopology{7, 1, 1, 1}, 128 * mib), Catch::Contains("NUMA nodes less than 32 MiB"));
    CHECK_NOTHROW(map_for(CpuTopology{3, 1, 1, 1}, 128 * mib));
    LayoutRequest r;
    r.cpus = 4;
    r.topology = CpuTopology{2, 1, 1, 1};
    CHECK_THROWS_WITH(layout_x86_64(r), Catch::Contains("4 cpus requested but the topology makes 2"));
}
