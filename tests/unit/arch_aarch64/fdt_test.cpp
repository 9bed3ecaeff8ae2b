// build_fdt read back with libfdt: the blob is valid, has exactly the
// nodes and properties the arm64 boot protocol needs, and keeps the SHM
// region out of RAM and reserved twice over, for many sizes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "arch/aarch64/fdt_builder.hpp"
#include "arch/aarch64/layout.hpp"
#include "expected_shape.hpp"
#include "fdt_reader.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::aarch64;
using namespace ktstr::vmm::aarch64::test;

namespace {

struct Case {
    std::uint64_t memory_mib;
    std::uint64_t shm;
    std::uint64_t initrd;
    std::uint32_t cpus;
};

// Sizes around the 4 GiB line (the slot is [1 GiB, 1 GiB + memory)), tiny
// and large SHM regions, big initrds, CPU counts across MPIDR clusters.
const Case cases[] = {
    {256, 1 * mib, 0, 1},
    {512, 4096, 16 * mib, 2},
    {2048, 64 * 1024, 8 * mib + 5, 16},
    {3072, 2 * mib, 32 * mib, 4},        // slot ends at 4 GiB: SHM just below it
    {3073, 2 * mib, 32 * mib, 17},       // SHM straddles 4 GiB
    {3073, 4096, 0, 8},                  // RAM crosses 4 GiB, SHM just above
    {3076, 4 * mib, 1 * mib, 3},         // SHM starts at 4 GiB
    {3072 + 2, 4 * mib, 100 * mib, 33},  // SHM straddles 4 GiB with a big initrd
    {8192, 256 * mib, 0, 64},
    {40 * 1024, 16 * mib, 64 * mib, 512},
};

MemoryMap layout_for(const Case& c) {
    LayoutRequestAarch64 r;
    r.memory_bytes = c.memory_mib * mib;
    r.shm_bytes = c.shm;
    r.initrd_bytes = c.initrd;
    r.cpus = c.cpus;
    r.cmdline_extra = "earlycon";
    r.virtio_devices = 2;
    return layout_aarch64(r);
}

std::vector<std::uint64_t> default_affinities(std::uint32_t cpus) {
    std::vector<std::uint64_t> out;
    for (std::uint32_t i = 0; i < cpus; ++i)
        out.push_back(kvm_default_mpidr(i) & ~(1ULL << 31));
    return out;
}

std::vector<std::string> tokens(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string t; in >> t;)
        out.push_back(t);
    return out;
}

std::uint64_t cmdline_hex(const std::vector<std::string>& toks, const std::string& key) {
    auto it = std::find_if(toks.begin(), toks.end(), [&](const std::string& t) { return t.starts_with(key + "="); });
    REQUIRE(it != toks.end());
    auto value = it->substr(key.size() + 1);
    REQUIRE(value.starts_with("0x"));
    return std::stoull(value.substr(2), nullptr, 16);
}

bool covers(const GuestRange& outer, const GuestRange& inner) {
    return inner.start >= outer.start && inner.end() <= outer.end();
}

}  // namespace

TEST_CASE("aarch64 fdt: valid blob with exactly the specified nodes and properties", "[aarch64][fdt]") {
    for (const auto& c : cases) {
        CAPTURE(c.memory_mib, c.shm, c.initrd, c.cpus);
        auto map = layout_for(c);
        auto blob = build_fdt(map);
        REQUIRE(fdt_check_full(blob.data(), blob.size()) == 0);
        CHECK(blob.size() <= fdt_max_size);
        CHECK(fdt_totalsize(static_cast<const void*>(blob.data())) == blob.size());

        auto tree = read_tree(blob);
        CHECK(shape_of(tree) == expected_shape(map, default_affinities(c.cpus)));
    }
}

TEST_CASE("aarch64 fdt: SHM is outside every /memory range and covered by both reservations", "[aarch64][fdt]") {
    for (const auto& c : cases) {
        CAPTURE(c.memory_mib, c.shm, c.initrd, c.cpus);
        auto map = layout_for(c);
        auto blob = build_fdt(map);
        auto tree = read_tree(blob);
        const GuestRange slot{ram_base, c.memory_mib * mib};

        // /memory: device_type "memory", exactly the map's RAM, none of the SHM.
        std::vector<GuestRange> memory;
        for (const auto& [path, props] : tree) {
            if (!path.starts_with("/memory@"))
                continue;
            CHECK(string_of(props.at("device_type")) == "memory");
            for (const auto& r : ranges_of(props.at("reg")))
                memory.push_back(r);
        }
        CHECK(memory == map.ram);
        std::uint64_t memory_bytes = 0;
        for (const auto& r : memory) {
            CHECK_FALSE(r.overlaps(map.shm));
            CHECK(covers(slot, r));
            memory_bytes += r.size;
        }
        // RAM and SHM together are the whole slot: nothing is lost.
        CHECK(memory_bytes + map.shm.size == slot.size);
        CHECK(covers(slot, map.shm));

        // /reserved-memory: a no-map child covering the SHM region.
        const auto& rm = tree.at("/reserved-memory");
        CHECK(cells(rm.at("#address-cells")) == std::vector<std::uint32_t>{2});
        CHECK(cells(rm.at("#size-cells")) == std::vector<std::uint32_t>{2});
        CHECK(rm.at("ranges").empty());
        const auto& shm_node = tree.at(fmt::format("/reserved-memory/ktstr-shm@{:x}", map.shm.start));
        CHECK(shm_node.at("no-map").empty());
        CHECK(ranges_of(shm_node.at("reg")) == std::vector<GuestRange>{map.shm});

        // /memreserve/: one entry, the SHM region.
        REQUIRE(fdt_num_mem_rsv(blob.data()) == 1);
        std::uint64_t addr = 0, size = 0;
        REQUIRE(fdt_get_mem_rsv(blob.data(), 0, &addr, &size) == 0);
        CHECK(GuestRange{addr, size} == map.shm);

        // The guest finds the region on its command line.
        auto toks = tokens(string_of(tree.at("/chosen").at("bootargs")));
        CHECK(std::count(toks.begin(), toks.end(), "KTSTR_GUEST=1") == 1);
        CHECK(cmdline_hex(toks, "KTSTR_SHM_BASE") == map.shm.start);
        CHECK(cmdline_hex(toks, "KTSTR_SHM_SIZE") == map.shm.size);

        // The initrd and the DTB load address lie in RAM, apart from each other.
        const GuestRange fdt_slot{fdt_load_address(map), fdt_max_size};
        CHECK(std::any_of(memory.begin(), memory.end(), [&](const GuestRange& r) { return covers(r, fdt_slot); }));
        if (map.initrd) {
            const auto& chosen = tree.at("/chosen");
            GuestRange initrd{u64_of(chosen.at("linux,initrd-start")), 0};
            initrd.size = u64_of(chosen.at("linux,initrd-end")) - initrd.start;
            CHECK(initrd == *map.initrd);
            CHECK(initrd.size == c.initrd);
            CHECK(std::any_of(memory.begin(), memory.end(), [&](const GuestRange& r) { return covers(r, initrd); }));
            CHECK_FALSE(initrd.overlaps(fdt_slot));
            CHECK_FALSE(initrd.overlaps({ram_base, 64 * mib}));
            CHECK(initrd.end() <= ram_base + 32 * gib);
        }
    }
}

TEST_CASE("aarch64 fdt: property values", "[aarch64][fdt]") {
    auto map = layout_for({1024, 1 * mib, 4 * mib, 20});
    auto blob = build_fdt(map);
    auto tree = read_tree(blob);
    const void* fdt = blob.data();

    const auto& root = tree.at("/");
    CHECK(string_of(root.at("compatible")) == "linux,dummy-virt");
    CHECK(cells(root.at("#address-cells")) == std::vector<std::uint32_t>{2});
    CHECK(cells(root.at("#size-cells")) == std::vector<std::uint32_t>{2});

    // interrupt-parent is the GIC's phandle.
    const auto phandle = cells(root.at("interrupt-parent"));
    REQUIRE(phandle.size() == 1);
    int gic = fdt_node_offset_by_phandle(fdt, phandle[0]);
    REQUIRE(gic >= 0);
    CHECK(std::string(fdt_get_name(fdt, gic, nullptr)) == "interrupt-controller@8000000");

    const auto& intc = tree.at("/interrupt-controller@8000000");
    CHECK(string_of(intc.at("compatible")) == "arm,gic-v3");
    CHECK(cells(intc.at("#interrupt-cells")) == std::vector<std::uint32_t>{3});
    CHECK(intc.at("interrupt-controller").empty());
    CHECK(ranges_of(intc.at("reg")) ==
          std::vector<GuestRange>{{0x0800'0000, 0x1'0000}, {0x1000'0000, 20 * 0x2'0000}});

    // stdout-path and the aliases name real nodes.
    const auto& chosen = tree.at("/chosen");
    CHECK(fdt_path_offset(fdt, string_of(chosen.at("stdout-path")).c_str()) >= 0);
    CHECK(string_of(chosen.at("stdout-path")) == "/serial@9000000");
    CHECK(string_of(tree.at("/aliases").at("serial0")) == "/serial@9000000");
    CHECK(string_of(tree.at("/aliases").at("serial1")) == "/serial@9001000");
    CHECK(string_of(chosen.at("bootargs")) == map.cmdline);

    // cpus: reg is the MPIDR affinity (cluster of 16 in Aff0, then Aff1).
    const auto& cpus = tree.at("/cpus");
    CHECK(cells(cpus.at("#address-cells")) == std::vector<std::uint32_t>{1});
    CHECK(cells(cpus.at("#size-cells")) == std::vector<std::uint32_t>{0});
    for (std::uint32_t i = 0; i < 20; ++i) {
        const std::uint32_t aff = (i / 16) << 8 | (i % 16);
        const auto& cpu = tree.at(fmt::format("/cpus/cpu@{:x}", aff));
        CHECK(string_of(cpu.at("device_type")) == "cpu");
        CHECK(string_of(cpu.at("compatible")) == "arm,arm-v8");
        CHECK(string_of(cpu.at("enable-method")) == "psci");
        CHECK(cells(cpu.at("reg")) == std::vector<std::uint32_t>{aff});
    }

    const auto& psci = tree.at("/psci");
    CHECK(string_of(psci.at("compatible")) == std::string("arm,psci-1.0\0arm,psci-0.2", 25));
    CHECK(string_of(psci.at("method")) == "hvc");

    const auto& timer = tree.at("/timer");
    CHECK(string_of(timer.at("compatible")) == "arm,armv8-timer");
    CHECK(timer.at("always-on").empty());
    CHECK(cells(timer.at("interrupts")) == std::vector<std::uint32_t>{1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4});

    for (std::uint32_t i = 0; i < 2; ++i) {
        const auto& uart = tree.at(fmt::format("/serial@{:x}", 0x0900'0000 + i * 0x1000));
        CHECK(string_of(uart.at("compatible")) == "ns16550a");
        CHECK(ranges_of(uart.at("reg")) == std::vector<GuestRange>{{0x0900'0000 + i * 0x1000ULL, 0x1000}});
        CHECK(cells(uart.at("interrupts")) == std::vector<std::uint32_t>{0, uart_spi(i), 1});
        CHECK(cells(uart.at("clock-frequency")) == std::vector<std::uint32_t>{1'843'200});
    }

    REQUIRE(map.mmio.size() == 2);
    for (const auto& d : map.mmio) {
        const auto& node = tree.at(fmt::format("/virtio_mmio@{:x}", d.window.start));
        CHECK(string_of(node.at("compatible")) == "virtio,mmio");
        CHECK(ranges_of(node.at("reg")) == std::vector<GuestRange>{d.window});
        CHECK(cells(node.at("interrupts")) == std::vector<std::uint32_t>{0, d.irq, 1});
        CHECK(node.at("dma-coherent").empty());
    }
}

TEST_CASE("aarch64 fdt: no initrd, no /chosen initrd properties", "[aarch64][fdt]") {
    auto map = layout_for({256, 1 * mib, 0, 1});
    auto tree = read_tree(build_fdt(map));
    CHECK(tree.at("/chosen").count("linux,initrd-start") == 0);
    CHECK(tree.at("/chosen").count("linux,initrd-end") == 0);
}

TEST_CASE("aarch64 fdt: MPIDRs from KVM name the cpu nodes, and Aff3 takes two cells", "[aarch64][fdt]") {
    auto map = layout_for({256, 1 * mib, 0, 2});
    const std::uint64_t mpidrs[] = {0x8000'0000ULL | 0x01'0000'0203ULL, 0x8000'0000ULL | 0x01'0000'0204ULL};
    auto tree = read_tree(build_fdt(map, mpidrs));
    CHECK(cells(tree.at("/cpus").at("#address-cells")) == std::vector<std::uint32_t>{2});
    CHECK(u64_of(tree.at("/cpus/cpu@100000203").at("reg")) == 0x1'0000'0203ULL);
    CHECK(u64_of(tree.at("/cpus/cpu@100000204").at("reg")) == 0x1'0000'0204ULL);
}

TEST_CASE("aarch64 fdt: an inconsistent memory map is refused", "[aarch64][fdt]") {
    const auto good = layout_for({512, 1 * mib, 4 * mib, 2});
    auto error_of = [](const MemoryMap& m) -> std::string {
        try {
            build_fdt(m);
        } catch (const LayoutError& e) {
            return e.what();
        }
        return "(no error)";
    };
    CHECK(error_of(good) == "(no error)");

    auto m = good;
    m.shm.start -= 4096;  // now overlaps the top RAM page
    CHECK_THAT(error_of(m), Catch::Contains("overlaps RAM"));

    m = good;
    m.initrd->start = m.shm.start;
    CHECK_THAT(error_of(m), Catch::Contains("not inside one RAM range"));

    m = good;
    m.cpus = 0;
    CHECK_THAT(error_of(m), Catch::Contains("0 cpus"));
    m.cpus = 513;
    CHECK_THAT(error_of(m), Catch::Contains("513 cpus"));

    m = good;
    m.mmio[1].irq = m.mmio[0].irq;
    CHECK_THAT(error_of(m), Catch::Contains("taken"));

    m = good;
    m.mmio[1].window = m.mmio[0].window;
    CHECK_THAT(error_of(m), Catch::Contains("overlaps"));

    m = good;
    m.mmio[0].window = {uart_address(0), 0x1000};
    CHECK_THAT(error_of(m), Catch::Contains("overlaps"));

    m = good;
    m.ram.push_back(m.ram[0]);
    CHECK_THAT(error_of(m), Catch::Contains("sorted and disjoint"));

    const std::uint64_t one[] = {kvm_default_mpidr(0)};
    CHECK_THROWS_WITH(build_fdt(good, one), Catch::Contains("1 MPIDR values given for 2 cpus"));
    const std::uint64_t same[] = {kvm_default_mpidr(0), kvm_default_mpidr(0)};
    CHECK_THROWS_WITH(build_fdt(good, same), Catch::Contains("share one MPIDR"));
}
