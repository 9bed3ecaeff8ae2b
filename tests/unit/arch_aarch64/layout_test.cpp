// layout_aarch64: where RAM, SHM, the initrd, the DTB and the MMIO windows
// go, and which requests it refuses.
#include <catch2/catch.hpp>

#include <string>

#include "arch/aarch64/layout.hpp"

using namespace ktstr::vmm;
using namespace ktstr::vmm::aarch64;

namespace {

LayoutRequestAarch64 request(std::uint64_t memory_mib, std::uint64_t shm, std::uint64_t initrd = 0,
                             std::uint32_t cpus = 1) {
    LayoutRequestAarch64 r;
    r.memory_bytes = memory_mib * mib;
    r.shm_bytes = shm;
    r.initrd_bytes = initrd;
    r.cpus = cpus;
    return r;
}

std::string layout_error(const LayoutRequestAarch64& r) {
    try {
        layout_aarch64(r);
    } catch (const LayoutError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("aarch64 layout: RAM from 1 GiB, SHM at the top of the slot, outside RAM", "[aarch64][layout]") {
    auto map = layout_aarch64(request(512, 1 * mib));
    REQUIRE(map.ram.size() == 1);
    CHECK(map.ram[0].start == 0x4000'0000);
    CHECK(map.ram[0].end() == map.shm.start);
    CHECK(map.shm.end() == 0x4000'0000 + 512 * mib);
    CHECK(map.shm.size == 1 * mib);
    CHECK_FALSE(map.ram[0].overlaps(map.shm));
    CHECK(map.ram_bytes() + map.shm.size == 512 * mib);
    CHECK(map.cpus == 1);
    CHECK_FALSE(map.initrd.has_value());
    CHECK(kernel_load_address(map) == 0x4000'0000);
}

TEST_CASE("aarch64 layout: the command line carries the KTSTR_* parameters in hex", "[aarch64][layout]") {
    auto map = layout_aarch64(request(512, 64 * 1024));
    CHECK(map.cmdline == "console=ttyS0 panic=-1 KTSTR_GUEST=1 KTSTR_SHM_BASE=0x5fff0000 KTSTR_SHM_SIZE=0x10000 KTSTR_BOOT_MARK=0xb000000");
    // The caller's part comes last, so a "--" in it cannot swallow KTSTR_*.
    auto r = request(512, 64 * 1024);
    r.cmdline_extra = "quiet -- init-arg";
    CHECK(layout_aarch64(r).cmdline ==
          "console=ttyS0 panic=-1 KTSTR_GUEST=1 KTSTR_SHM_BASE=0x5fff0000 KTSTR_SHM_SIZE=0x10000 KTSTR_BOOT_MARK=0xb000000 quiet -- init-arg");
}

TEST_CASE("aarch64 layout: the DTB slot and the initrd sit at the top of RAM, above the kernel",
          "[aarch64][layout]") {
    const std::uint64_t initrd = 20 * mib + 123;
    auto map = layout_aarch64(request(512, 1 * mib, initrd));
    const auto fdt = fdt_load_address(map);
    // The highest 2 MiB-aligned 2 MiB slot below the SHM region.
    CHECK(fdt == 0x4000'0000 + 512 * mib - 4 * mib);
    CHECK(fdt % (2 * mib) == 0);
    CHECK(fdt + fdt_max_size <= map.shm.start);
    REQUIRE(map.initrd.has_value());
    CHECK(map.initrd->size == initrd);
    CHECK(map.initrd->start % page_size == 0);
    CHECK(map.initrd->end() <= fdt);
    CHECK(fdt - map.initrd->end() < page_size);
    CHECK(map.initrd->start >= 0x4000'0000 + 64 * mib);  // clear of the kernel reserve
    CHECK(map.ram[0].contains(map.initrd->start));
    CHECK(map.initrd->end() <= map.ram[0].end());
}

TEST_CASE("aarch64 layout: with more than 32 GiB the initrd stays in the kernel's 32 GiB window",
          "[aarch64][layout]") {
    auto map = layout_aarch64(request(40 * 1024, 2 * mib, 64 * mib));
    REQUIRE(map.initrd.has_value());
    // Ends exactly at the window's end, far below the DTB at the top of RAM.
    CHECK(map.initrd->end() == 0x4000'0000 + 32 * gib);
    CHECK(fdt_load_address(map) == 0x4000'0000 + 40 * gib - 4 * mib);
}

TEST_CASE("aarch64 layout: SHM straddling or touching 4 GiB", "[aarch64][layout]") {
    SECTION("slot ends at 4 GiB") {
        auto map = layout_aarch64(request(3072, 2 * mib));
        CHECK(map.shm.start == 0xffe0'0000);
        CHECK(map.shm.end() == 0x1'0000'0000);
        CHECK(map.ram[0].end() == map.shm.start);
    }
    SECTION("SHM crosses 4 GiB") {
        auto map = layout_aarch64(request(3073, 2 * mib));
        CHECK(map.shm.start < 0x1'0000'0000);
        CHECK(map.shm.end() > 0x1'0000'0000);
        CHECK_FALSE(map.ram[0].overlaps(map.shm));
        CHECK(map.cmdline.find("KTSTR_SHM_BASE=0xfff00000 KTSTR_SHM_SIZE=0x200000") != std::string::npos);
    }
    SECTION("SHM starts at 4 GiB, RAM ends there") {
        auto map = layout_aarch64(request(3076, 4 * mib));
        CHECK(map.shm.start == 0x1'0000'0000);
        CHECK(map.ram[0].end() == 0x1'0000'0000);
    }
}

TEST_CASE("aarch64 layout: one virtio-mmio window and SPI per device, below RAM", "[aarch64][layout]") {
    auto r = request(256, 1 * mib);
    r.virtio_devices = 3;
    auto map = layout_aarch64(r);
    REQUIRE(map.mmio.size() == 3);
    for (std::size_t i = 0; i < map.mmio.size(); ++i) {
        const auto& d = map.mmio[i];
        CHECK(d.name == "virtio-mmio." + std::to_string(i));
        CHECK(d.window.start == virtio_mmio_base + i * virtio_mmio_size);
        CHECK(d.window.size == virtio_mmio_size);
        CHECK(d.irq == virtio_first_spi + i);
        CHECK(d.window.end() <= ram_base);
        CHECK_FALSE(d.window.overlaps(map.shm));
        CHECK_FALSE(d.window.overlaps(gic_redist_range(max_cpus)));
        CHECK_FALSE(d.window.overlaps({gic_dist_base, gic_dist_size}));
        for (std::uint32_t u = 0; u < uart_count; ++u) {
            CHECK_FALSE(d.window.overlaps({uart_address(u), uart_size}));
            CHECK(d.irq != uart_spi(u));
        }
    }
    // The largest redistributor window still ends below RAM.
    CHECK(gic_redist_range(max_cpus).end() <= ram_base);
}

TEST_CASE("aarch64 layout: bad requests are refused with a reason", "[aarch64][layout]") {
    CHECK_THAT(layout_error(request(256, 1 * mib, 0, 0)), Catch::Contains("cpus must be at least 1"));
    CHECK_THAT(layout_error(request(256, 1 * mib, 0, 513)), Catch::Contains("redistributor"));
    CHECK_NOTHROW(layout_aarch64(request(256, 1 * mib, 0, 512)));
    CHECK_THAT(layout_error(request(256, 512 * mib)), Catch::Contains("must be smaller than guest memory"));
    CHECK_THAT(layout_error(request(256, 256 * mib)), Catch::Contains("must be smaller than guest memory"));
    CHECK_THAT(layout_error(request(256, 4097)), Catch::Contains("multiple of 4096"));
    CHECK_THAT(layout_error(request(256, 0)), Catch::Contains("non-zero multiple of 4096"));
    CHECK_THAT(layout_error(request(0, 4096)), Catch::Contains("guest memory (0 bytes)"));
    CHECK_THAT(layout_error(request(64, 1 * mib)), Catch::Contains("guest memory too small"));
    CHECK_THAT(layout_error(request(256, 1 * mib, 200 * mib)), Catch::Contains("initrd of"));
    CHECK_THAT(layout_error(request(1024 * 1024, 1 * mib)), Catch::Contains("40-bit"));

    auto r = request(256, 1 * mib);
    r.cmdline_extra = "quiet KTSTR_SHM_BASE=0x1000";
    CHECK_THAT(layout_error(r), Catch::Contains("must not set KTSTR_SHM_BASE=0x1000"));
    // The guest init's own options are the caller's (run adds KTSTR_INIT_ECHO).
    r.cmdline_extra = "quiet KTSTR_INIT_ECHO=0";
    CHECK(layout_aarch64(r).cmdline.ends_with(" quiet KTSTR_INIT_ECHO=0"));
    r.cmdline_extra = std::string(2000, 'x');
    CHECK_THAT(layout_error(r), Catch::Contains("at most 2047"));
    r.cmdline_extra = std::string("a\0b", 3);
    CHECK_THAT(layout_error(r), Catch::Contains("NUL"));
    r = request(256, 1 * mib);
    r.virtio_devices = 33;
    CHECK_THAT(layout_error(r), Catch::Contains("33 virtio devices"));
    r = request(256, 1 * mib);
    r.kernel_reserve = 3 * mib;
    CHECK_THAT(layout_error(r), Catch::Contains("2 MiB"));
}
