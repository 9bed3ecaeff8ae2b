#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "ktstr/host/guest_memory.hpp"

using namespace ktstr;
using namespace ktstr::host;

namespace {

constexpr std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();

}  // namespace

TEST_CASE("guest memory: a range starting inside but ending outside a mapping is refused") {
    std::vector<std::uint8_t> ram(4096, 0);
    GuestMemory mem({{0x1000, ram.size(), ram.data()}});

    CHECK(mem.contains(0x1000, 4096));
    CHECK(mem.contains(0x1ff8, 8));       // last 8 bytes exactly
    CHECK_FALSE(mem.contains(0x1ff9, 8)); // start in range, end one past
    CHECK_FALSE(mem.contains(0x1000, 4097));
    CHECK_FALSE(mem.contains(0xfff, 2));  // start one below
    CHECK_FALSE(mem.contains(0x2000, 1)); // first byte after
    CHECK_FALSE(mem.contains(0x1000, 0)); // empty ranges name nothing

    CHECK(mem.read_u64(0x1ff8).has_value());
    CHECK_FALSE(mem.read_u64(0x1ff9).has_value());
    CHECK_FALSE(mem.read_u32(0x1ffd).has_value());
    CHECK(mem.read_u8(0x1fff).has_value());
    CHECK_FALSE(mem.read_u8(0x2000).has_value());
    CHECK_FALSE(mem.write_u64(0x1ffc, 1));
    CHECK(std::all_of(ram.begin(), ram.end(), [](auto b) { return b == 0; }));
}

TEST_CASE("guest memory: lengths and addresses near 2^64 do not wrap") {
    std::vector<std::uint8_t> ram(4096, 0);
    GuestMemory mem({{0x1000, ram.size(), ram.data()}});

    CHECK_FALSE(mem.contains(0x1000, max64));
    CHECK_FALSE(mem.contains(0x1008, max64 - 7));  // gpa + len wraps to 0x1000
    CHECK_FALSE(mem.contains(max64, 1));
    CHECK_FALSE(mem.contains(max64, 2));
    CHECK_FALSE(mem.region(0x1000, max64).has_value());
    std::vector<std::uint8_t> out(16);
    CHECK_FALSE(mem.read(max64 - 7, out));

    // A mapping that ends exactly at 2^64.
    std::vector<std::uint8_t> top(4096, 0);
    GuestMemory high({{max64 - 4095, top.size(), top.data()}});
    CHECK(high.contains(max64 - 4095, 4096));
    CHECK(high.contains(max64, 1));
    CHECK_FALSE(high.contains(max64, 2));
    CHECK(high.write_u8(max64, 0x5a));
    CHECK(top.back() == 0x5a);
    CHECK(high.read_u8(max64) == std::optional<std::uint8_t>(0x5a));
    CHECK_FALSE(high.read_u64(max64 - 6).has_value());
}

TEST_CASE("guest memory: bad mappings are refused at construction") {
    std::vector<std::uint8_t> a(4096), b(4096);
    CHECK_THROWS_AS(GuestMemory({{0, 4096, nullptr}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemory({{0, 0, a.data()}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemory({{max64 - 4094, 4096, a.data()}}), std::invalid_argument);  // wraps by one
    CHECK_THROWS_AS(GuestMemory({{0x1000, 4096, a.data()}, {0x1fff, 4096, b.data()}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemory({{0x1000, 4096, a.data()}, {0x1000, 4096, b.data()}}), std::invalid_argument);
    CHECK_NOTHROW(GuestMemory({{0x2000, 4096, b.data()}, {0x1000, 4096, a.data()}}));  // adjacent, any order
}

TEST_CASE("guest memory: several mappings route each access to its own, and a range spanning two is refused") {
    std::vector<std::uint8_t> low(4096, 0xaa), mid(4096, 0xbb), high(4096, 0xcc);
    // low and mid adjacent; a gap before high.
    GuestMemory mem({{0x100000, high.size(), high.data()}, {0, low.size(), low.data()}, {0x1000, mid.size(), mid.data()}});
    REQUIRE(mem.regions().size() == 3);
    CHECK(mem.regions()[0].guest_phys == 0);
    CHECK(mem.regions()[2].guest_phys == 0x100000);

    CHECK(mem.read_u8(0xfff) == std::optional<std::uint8_t>(0xaa));
    CHECK(mem.read_u8(0x1000) == std::optional<std::uint8_t>(0xbb));
    CHECK(mem.read_u8(0x100000) == std::optional<std::uint8_t>(0xcc));
    CHECK_FALSE(mem.read_u8(0x2000).has_value());   // in the gap
    CHECK_FALSE(mem.read_u8(0xfffff).has_value());  // last byte of the gap

    CHECK_FALSE(mem.contains(0xffc, 8));      // straddles two adjacent mappings
    CHECK_FALSE(mem.contains(0x1ff0, 0xfe020)); // from mid across the gap into high
    CHECK_FALSE(mem.read_u32(0xffe).has_value());

    REQUIRE(mem.write_u32(0x100004, 0x11223344));
    CHECK(high[4] == 0x44);
    CHECK(high[7] == 0x11);
    CHECK(mem.read_u32(0x100004) == std::optional<std::uint32_t>(0x11223344));

    auto r = mem.region(0x1010, 32);
    REQUIRE(r.has_value());
    CHECK(r->data() == mid.data() + 0x10);
    CHECK(r->size() == 32);
}

TEST_CASE("guest memory: words are little-endian, aligned or not, and spans copy both ways") {
    std::vector<std::uint8_t> ram(64, 0);
    GuestMemory mem({{0x8000, ram.size(), ram.data()}});
    REQUIRE(mem.write_u64(0x8000, 0x0102030405060708));
    CHECK(ram[0] == 0x08);
    CHECK(ram[7] == 0x01);
    REQUIRE(mem.write_u64(0x8009, 0xa1a2a3a4a5a6a7a8));  // unaligned
    CHECK(ram[9] == 0xa8);
    CHECK(ram[16] == 0xa1);
    CHECK(mem.read_u64(0x8009) == std::optional<std::uint64_t>(0xa1a2a3a4a5a6a7a8));
    REQUIRE(mem.write_u32(0x8013, 0xdeadbeef));
    CHECK(mem.read_u32(0x8013) == std::optional<std::uint32_t>(0xdeadbeef));

    const std::vector<std::uint8_t> in{1, 2, 3, 4, 5};
    REQUIRE(mem.write(0x803b, in));  // ends at the last byte
    std::vector<std::uint8_t> out(5);
    REQUIRE(mem.read(0x803b, out));
    CHECK(out == in);
    CHECK_FALSE(mem.write(0x803c, in));
    CHECK_FALSE(mem.read(0x803c, out));
}
