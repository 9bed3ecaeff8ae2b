// layout_x86_64: where RAM, the SHM region, the initrd and the virtio
// windows land, and which requests are refused.
#include <catch2/catch.hpp>

#include <string>

#include "arch/x86_64/layout.hpp"

using namespace ktstr::vmm;
using namespace ktstr::vmm::x86_64;

namespace {

LayoutRequest request(std::uint64_t memory_mib, std::uint64_t shm_bytes = 1 * mib) {
    LayoutRequest r;
    r.memory_bytes = memory_mib * mib;
    r.shm_bytes = shm_bytes;
    return r;
}

void check_refused(const LayoutRequest& r, const std::string& needle) {
    try {
        (void)layout_x86_64(r);
        FAIL("request accepted; expected an error mentioning: " << needle);
    } catch (const LayoutError& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.find(needle) != std::string::npos);
        CHECK(msg.find('\n') == std::string::npos);
    }
}

}  // namespace

TEST_CASE("default layout: 255 MiB of RAM around a 1 MiB SHM region at 192 MiB", "[x86_64][layout]") {
    const MemoryMap m = layout_x86_64(LayoutRequest{});
    REQUIRE(m.ram.size() == 2);
    CHECK(m.ram[0] == GuestRange{0, 192 * mib});
    CHECK(m.shm == GuestRange{192 * mib, 1 * mib});
    CHECK(m.ram[1] == GuestRange{194 * mib, 63 * mib});
    CHECK(m.ram_bytes() + m.shm.size == 256 * mib);
    CHECK(m.cpus == 2);
    CHECK_FALSE(m.initrd);
}

TEST_CASE("memory that is a 64 MiB multiple plus the SHM gives one low RAM range", "[x86_64][layout]") {
    const MemoryMap m = layout_x86_64(request(257));
    REQUIRE(m.ram.size() == 1);
    CHECK(m.ram[0] == GuestRange{0, 256 * mib});
    CHECK(m.shm == GuestRange{256 * mib, 1 * mib});
}

TEST_CASE("4096 MiB of memory puts RAM above 4 GiB and none in the MMIO hole", "[x86_64][layout]") {
    const MemoryMap m = layout_x86_64(request(4096));
    REQUIRE(m.ram.size() == 3);
    CHECK(m.ram[0] == GuestRange{0, 3008 * mib});
    CHECK(m.shm == GuestRange{3008 * mib, 1 * mib});
    CHECK(m.ram[1] == GuestRange{3010 * mib, 62 * mib});
    CHECK(m.ram[2].start == 4 * gib);
    CHECK(m.ram[2].size == 4096 * mib - 1 * mib - 3008 * mib - 62 * mib);
    CHECK(m.ram_bytes() == 4095 * mib);
    for (const auto& r : m.ram)
        CHECK_FALSE(r.overlaps({mmio_hole_start, mmio_hole_end - mmio_hole_start}));
}

TEST_CASE("8 GiB and a large SHM region still fit", "[x86_64][layout]") {
    const MemoryMap m = layout_x86_64(request(8192, 512 * mib));
    CHECK(m.shm.start % shm_alignment == 0);
    CHECK(m.shm.end() <= mmio_hole_start);
    CHECK(m.ram_bytes() == 8192 * mib - 512 * mib);
    CHECK(m.ram.back().start == 4 * gib);
}

TEST_CASE("virtio windows sit in the MMIO hole with GSIs from 16", "[x86_64][layout]") {
    LayoutRequest r;
    r.virtio_devices = 3;
    const MemoryMap m = layout_x86_64(r);
    REQUIRE(m.mmio.size() == 3);
    for (std::uint32_t i = 0; i < 3; ++i) {
        CHECK(m.mmio[i].name == "virtio-mmio." + std::to_string(i));
        CHECK(m.mmio[i].window == GuestRange{0xd000'0000 + i * 0x1000ULL, 0x1000});
        CHECK(m.mmio[i].irq == 16 + i);
    }
}

TEST_CASE("the command line carries the base, the KTSTR_* parameters, then the extra part", "[x86_64][layout]") {
    LayoutRequest r;
    r.cmdline_extra = "quiet rdinit=/init";
    const MemoryMap m = layout_x86_64(r);
    CHECK(m.cmdline ==
          "console=ttyS0 panic=-1 pci=off reboot=acpi cryptomgr.notests KTSTR_GUEST=1 KTSTR_SHM_BASE=0xc000000 KTSTR_SHM_SIZE=0x100000 "
          "KTSTR_BOOT_MARK=0xd0010000 quiet rdinit=/init");
    CHECK(m.cmdline.find("nokaslr") == std::string::npos);
    CHECK(m.cmdline.find("virtio_mmio.device") == std::string::npos);
}

TEST_CASE("without an SHM region the command line leaves out KTSTR_SHM_*", "[x86_64][layout]") {
    CHECK(guest_cmdline("quiet KTSTR_INIT_ECHO=0", std::nullopt) ==
          "console=ttyS0 panic=-1 pci=off reboot=acpi cryptomgr.notests KTSTR_GUEST=1 quiet KTSTR_INIT_ECHO=0");
    CHECK(guest_cmdline("", std::nullopt) == "console=ttyS0 panic=-1 pci=off reboot=acpi cryptomgr.notests KTSTR_GUEST=1");
    CHECK_THROWS_AS(guest_cmdline("KTSTR_GUEST=0", std::nullopt), LayoutError);
    CHECK_THROWS_AS(guest_cmdline(std::string(cmdline_window, 'x'), std::nullopt), LayoutError);
}

TEST_CASE("the initrd goes as high as it may below initrd_addr_max, outside the kernel", "[x86_64][layout]") {
    LayoutRequest r;
    r.initrd_bytes = 10 * mib + 123;
    r.kernel = {16 * mib, 52 * mib};
    MemoryMap m = layout_x86_64(r);
    REQUIRE(m.initrd);
    CHECK(m.initrd->start % page_size == 0);
    CHECK(m.initrd->size == 10 * mib + 123);
    CHECK(m.initrd->end() <= m.ram.back().end());
    CHECK(m.initrd->start >= m.ram.back().start);  // the top range, after the SHM region

    SECTION("with 4 GiB it stays below 2 GiB") {
        r.memory_bytes = 4 * gib;
        m = layout_x86_64(r);
        REQUIRE(m.initrd);
        CHECK(m.initrd->end() <= 0x8000'0000);
        CHECK(m.initrd->end() > 0x8000'0000 - page_size);
    }
    SECTION("too big for the top range: below the SHM region instead") {
        r.initrd_bytes = 100 * mib;
        m = layout_x86_64(r);
        REQUIRE(m.initrd);
        CHECK(m.initrd->end() <= m.shm.start);
        CHECK_FALSE(m.initrd->overlaps(r.kernel));
    }
    SECTION("it does not fit at all") {
        r.initrd_bytes = 200 * mib;
        check_refused(r, "initrd");
    }
}

TEST_CASE("bad requests are refused with a one-line reason", "[x86_64][layout]") {
    LayoutRequest r;
    r.cpus = 0;
    check_refused(r, "cpus must be at least 1");
    r.cpus = 255;
    check_refused(r, "at most 254");
    r.cpus = 254;
    CHECK_NOTHROW(layout_x86_64(r));

    check_refused(request(64), "below the minimum");
    check_refused(request(300 * 1024), "above the maximum");
    LayoutRequest odd;
    odd.memory_bytes = 256 * mib + 1;
    check_refused(odd, "multiple of 4096");

    check_refused(request(256, 0), "non-zero multiple of 4096");
    check_refused(request(256, 1000), "non-zero multiple of 4096");
    check_refused(request(256, 256 * mib), "smaller than guest memory");
    check_refused(request(256, 1024 * mib), "smaller than guest memory");
    check_refused(request(256, 200 * mib), "at least 64 MiB must remain");
    check_refused(request(8192, 3 * gib), "too large");

    LayoutRequest v;
    v.virtio_devices = 9;
    check_refused(v, "at most 8");

    LayoutRequest c;
    c.cmdline_extra = "quiet KTSTR_SHM_BASE=0x1000";
    check_refused(c, "KTSTR_SHM_BASE");
    c.cmdline_extra = std::string("a\0b", 3);
    check_refused(c, "NUL");
    c.cmdline_extra = std::string(70000, 'x');
    check_refused(c, "command line");
}
