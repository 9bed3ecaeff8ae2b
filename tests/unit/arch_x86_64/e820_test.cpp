// The E820 table over many memory and SHM sizes: sorted, disjoint, the SHM
// region in no entry and right after a 64 MiB-aligned end of RAM.
#include <catch2/catch.hpp>

#include <vector>

#include "arch/x86_64/e820.hpp"
#include "arch/x86_64/layout.hpp"

using namespace ktstr::vmm;
using namespace ktstr::vmm::x86_64;

namespace {

bool overlaps(const E820Entry& e, const GuestRange& r) { return GuestRange{e.addr, e.size}.overlaps(r); }

void check_e820(const MemoryMap& m, const std::vector<E820Entry>& e820) {
    REQUIRE_FALSE(e820.empty());
    CHECK(e820.size() <= e820_max_entries);
    std::uint64_t ram = 0;
    bool shm_follows_ram = false;
    for (std::size_t i = 0; i < e820.size(); ++i) {
        const E820Entry& e = e820[i];
        INFO("entry " << i << " at " << std::hex << e.addr << " size " << e.size);
        CHECK(e.size > 0);
        if (i > 0)
            CHECK(e820[i - 1].end() <= e.addr);  // sorted and disjoint
        CHECK_FALSE(overlaps(e, m.shm));
        if (e.type == E820Type::ram) {
            ram += e.size;
            CHECK_FALSE(overlaps(e, {mmio_hole_start, mmio_hole_end - mmio_hole_start}));
            if (e.end() == m.shm.start)
                shm_follows_ram = true;
        }
    }
    CHECK(shm_follows_ram);
    CHECK(m.shm.start % (64 * mib) == 0);
    // Every byte of MemoryMap::ram is E820 RAM except the legacy BIOS window.
    CHECK(ram == m.ram_bytes() - (high_memory_start - ebda_start));
}

}  // namespace

TEST_CASE("E820 invariants from 128 MiB to 8 GiB and several SHM sizes", "[x86_64][e820]") {
    const std::vector<std::uint64_t> memory_mib{128, 129, 130, 192, 200, 255, 256, 257, 320, 511, 512, 1000, 1024,
                                                2048, 3000, 3072, 3073, 3136, 4096, 5000, 6144, 8192};
    const std::vector<std::uint64_t> shm_bytes{4096, 64 * kib, 1 * mib, 3 * mib, 16 * mib, 63 * mib, 64 * mib,
                                               100 * mib};
    int laid_out = 0;
    for (std::uint64_t mem : memory_mib) {
        for (std::uint64_t shm : shm_bytes) {
            LayoutRequest r;
            r.memory_bytes = mem * mib;
            r.shm_bytes = shm;
            if (r.memory_bytes - shm < 64 * mib)
                continue;  // refused, tested in layout_test
            INFO("memory " << mem << " MiB, shm " << shm << " bytes");
            const MemoryMap m = layout_x86_64(r);
            CHECK(m.ram_bytes() + m.shm.size == r.memory_bytes);
            check_e820(m, build_e820(m));
            ++laid_out;
        }
    }
    CHECK(laid_out > 150);
}

TEST_CASE("E820 for the default layout, entry by entry", "[x86_64][e820]") {
    const MemoryMap m = layout_x86_64(LayoutRequest{});
    const std::vector<E820Entry> expected{
        {0, 0x9fc00, E820Type::ram},
        {0x9fc00, 0x100000 - 0x9fc00, E820Type::reserved},
        {0x100000, 192 * mib - 0x100000, E820Type::ram},
        {194 * mib, 63 * mib, E820Type::ram},
        {0xfffbc000, 0x4000, E820Type::reserved},
    };
    CHECK(build_e820(m) == expected);
}

TEST_CASE("E820 refuses a map that breaks the x86_64 layout", "[x86_64][e820]") {
    MemoryMap m = layout_x86_64(LayoutRequest{});
    SECTION("SHM inside RAM") {
        m.shm = {100 * mib, mib};
        CHECK_THROWS_AS(build_e820(m), LayoutError);
    }
    SECTION("no low memory") {
        m.ram.front().start = 1 * mib;
        m.ram.front().size -= 1 * mib;
        CHECK_THROWS_AS(build_e820(m), LayoutError);
    }
    SECTION("unsorted ranges") {
        std::swap(m.ram[0], m.ram[1]);
        CHECK_THROWS_AS(build_e820(m), LayoutError);
    }
    SECTION("RAM over KVM's TSS pages") {
        m.ram.push_back({0xfff0'0000, 0x10'0000});
        CHECK_THROWS_AS(build_e820(m), LayoutError);
    }
    SECTION("more ranges than the zero page holds") {
        m.ram.resize(1);
        for (std::uint64_t i = 0; i < 130; ++i)
            m.ram.push_back({4 * gib + i * 2 * mib, mib});
        CHECK_THROWS_AS(build_e820(m), LayoutError);
    }
}
