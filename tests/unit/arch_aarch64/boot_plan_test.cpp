// The arm64 Image header and the boot plan: what is written where, where
// vCPU 0 starts, and which files and maps are refused.
#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <string>
#include <utility>
#include <vector>

#include "arch/aarch64/boot_plan.hpp"
#include "arch/aarch64/layout.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::aarch64;

namespace {

// A file with an arm64 Image header: `file_bytes` long, the rest zeros.
byte_buffer image_file(std::size_t file_bytes, std::uint64_t text_offset, std::uint64_t image_size,
                       std::uint64_t flags = 0x2 /* 4K pages */) {
    byte_buffer f(file_bytes, 0);
    store_le(f.data() + 0x08, text_offset);
    store_le(f.data() + 0x10, image_size);
    store_le(f.data() + 0x18, flags);
    f[0x38] = 'A';
    f[0x39] = 'R';
    f[0x3a] = 'M';
    f[0x3b] = 0x64;
    return f;
}

MemoryMap map_for(const Image& img, std::uint64_t initrd_bytes, std::uint32_t cpus = 2,
                  std::uint64_t shm_bytes = 1 * mib) {
    LayoutRequestAarch64 r;
    r.cpus = cpus;
    r.memory_bytes = 256 * mib;
    r.shm_bytes = shm_bytes;
    r.initrd_bytes = initrd_bytes;
    r.kernel_reserve = kernel_reserve(img);
    return layout_aarch64(r);
}

}  // namespace

TEST_CASE("aarch64 boot plan: the RAM kept for the Image", "[aarch64][boot_plan]") {
    const auto f = image_file(8192, 0, 3 * mib);
    CHECK(kernel_reserve(Image::parse_view(f)) == 4 * mib);
    CHECK(kernel_reserve(Image::parse_view(image_file(8192, 0x80000, 2 * mib))) == 4 * mib);
    CHECK(kernel_reserve(Image::parse_view(image_file(8192, 0, 2 * mib))) == 2 * mib);
}

TEST_CASE("aarch64 boot plan: Image at the RAM base, initrd and device tree where the layout put them",
          "[aarch64][boot_plan]") {
    const auto f = image_file(64 * 1024, 0, 3 * mib);
    const Image img = Image::parse_view(f);
    const byte_buffer initrd(5000, 0xab);
    const auto map = map_for(img, initrd.size());
    const std::vector<std::uint64_t> mpidrs{0x80000000, 0x80000001};
    const BootPlan plan = plan_boot(img, map, initrd, mpidrs);

    CHECK(plan.entry() == ram_base);
    CHECK(plan.fdt_address() == fdt_load_address(map));
    CHECK(plan.fdt_address() % (2 * mib) == 0);
    REQUIRE(plan.writes().size() == 3);
    CHECK(plan.writes()[0].what == "kernel");
    CHECK(plan.writes()[0].address == ram_base);
    CHECK(plan.writes()[0].bytes.data() == f.data());
    CHECK(plan.writes()[1].what == "initrd");
    CHECK(plan.writes()[1].address == map.initrd->start);
    CHECK(plan.writes()[1].bytes.size() == initrd.size());
    CHECK(plan.writes()[2].what == "device tree");
    CHECK(plan.writes()[2].bytes.size() == plan.fdt().size());
    // The device tree is a real blob (FDT magic, big-endian).
    REQUIRE(plan.fdt().size() > 40);
    const auto* m = plan.fdt().data();
    CHECK(((std::uint32_t{m[0]} << 24) | (m[1] << 16) | (m[2] << 8) | m[3]) == 0xd00dfeed);
    // Nothing the plan writes overlaps anything else it writes, and
    // everything lies in RAM below the SHM region.
    for (std::size_t i = 0; i < plan.writes().size(); ++i) {
        const auto& w = plan.writes()[i];
        const GuestRange r{w.address, w.bytes.size()};
        CHECK(map.ram.front().contains(r.start));
        CHECK(r.end() <= map.ram.front().end());
        CHECK_FALSE(r.overlaps(map.shm));
        for (std::size_t j = i + 1; j < plan.writes().size(); ++j)
            CHECK_FALSE(r.overlaps({plan.writes()[j].address, plan.writes()[j].bytes.size()}));
    }
}

TEST_CASE("aarch64 boot plan: a text_offset moves the entry, not the base", "[aarch64][boot_plan]") {
    const auto f = image_file(8192, 0x80000, mib);
    const Image img = Image::parse_view(f);
    const auto map = map_for(img, 0, 1);
    const BootPlan plan = plan_boot(img, map, {}, std::vector<std::uint64_t>{0x80000000});
    CHECK(plan.entry() == ram_base + 0x80000);
    CHECK(plan.writes().size() == 2);
}

TEST_CASE("aarch64 boot plan: what is refused", "[aarch64][boot_plan]") {
    const auto f = image_file(8192, 0, 3 * mib);
    const Image img = Image::parse_view(f);
    const byte_buffer initrd(5000, 0);
    const auto map = map_for(img, initrd.size());
    // One MPIDR per vCPU.
    CHECK_THROWS_AS(plan_boot(img, map, initrd, std::vector<std::uint64_t>{0}), LayoutError);
    // The initrd the layout placed is not this one.
    CHECK_THROWS_AS(plan_boot(img, map, byte_buffer(4000, 0), std::vector<std::uint64_t>{0, 1}), LayoutError);
    CHECK_THROWS_AS(plan_boot(img, map, {}, std::vector<std::uint64_t>{0, 1}), LayoutError);
    // A map laid out for a smaller kernel: the Image's RAM would run into
    // the initrd.
    const auto big = image_file(8192, 0, 252 * mib);
    CHECK_THROWS_AS(plan_boot(Image::parse_view(big), map, initrd, std::vector<std::uint64_t>{0, 1}), LayoutError);
}

TEST_CASE("aarch64 boot plan: the SHM region in whole pages of the size the Image declares", "[aarch64][boot_plan]") {
    const byte_buffer initrd(5000, 0);
    const std::vector<std::uint64_t> mpidrs{0, 1};
    const std::uint64_t odd_shm = 1 * mib + 4096;  // 4 KiB pages only
    // 4K pages (and an Image that does not say): 4 KiB alignment is enough.
    for (std::uint64_t flags : {0x0ull, 0x2ull}) {
        const auto f = image_file(8192, 0, 3 * mib, flags);
        const Image img = Image::parse_view(f);
        CHECK_NOTHROW(plan_boot(img, map_for(img, initrd.size(), 2, odd_shm), initrd, mpidrs));
    }
    // 16K and 64K pages: refused in one line naming the page size and the fix.
    for (auto [flags, kib] : {std::pair{0x4ull, 16}, std::pair{0x6ull, 64}}) {
        const auto f = image_file(8192, 0, 3 * mib, flags);
        const Image img = Image::parse_view(f);
        CHECK_THROWS_WITH(plan_boot(img, map_for(img, initrd.size(), 2, odd_shm), initrd, mpidrs),
                          Catch::Contains(fmt::format("uses {} KiB pages", kib)) &&
                              Catch::Contains(fmt::format("a multiple of {}K", kib)));
        // The default 1 MiB region is whole 64 KiB pages.
        CHECK_NOTHROW(plan_boot(img, map_for(img, initrd.size()), initrd, mpidrs));
    }
}
