// GuestMemory: the checks both of its users rely on (the devices'
// translate(), the host's shared accessors) and the word/byte accessors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "ktstr/common/guest_memory.hpp"

using namespace ktstr;

namespace {

constexpr std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();

}  // namespace

TEST_CASE("guest memory: translate finds ranges wholly inside one region") {
    std::vector<std::uint8_t> low(0x1000), high(0x2000);
    GuestMemory view({{0x10000, mutable_byte_view(high)}, {0, mutable_byte_view(low)}});

    auto a = view.translate(0x10, 0x20);
    REQUIRE(a);
    CHECK(a->data() == low.data() + 0x10);
    CHECK(a->size() == 0x20);

    auto b = view.translate(0x10000 + 0x1ff0, 0x10);  // ends exactly at the region end
    REQUIRE(b);
    CHECK(b->data() == high.data() + 0x1ff0);

    CHECK(view.translate(0x0fff, 1));
    CHECK(view.translate(0, 0x1000));
}

TEST_CASE("guest memory: translate refuses ranges that leave RAM") {
    std::vector<std::uint8_t> low(0x1000), next(0x1000);
    GuestMemory view({{0, mutable_byte_view(low)}, {0x1000, mutable_byte_view(next)}});

    CHECK_FALSE(view.translate(0x0ff0, 0x11 + 0x1000));  // start in range, end past both regions
    CHECK_FALSE(view.translate(0x0ff0, 0x20));           // straddles two adjacent regions
    CHECK_FALSE(view.translate(0x2000, 1));              // past the end
    CHECK_FALSE(view.translate(0x1000, 0x1001));         // one byte too long
    CHECK_FALSE(view.translate(0x10, UINT64_MAX));       // length alone wraps
    CHECK_FALSE(view.translate(UINT64_MAX - 4, 16));     // start + length wraps past 2^64
    CHECK_FALSE(view.translate(UINT64_MAX, 1));
}

TEST_CASE("guest memory: translate refuses gaps and regions near 2^64") {
    std::vector<std::uint8_t> a(0x1000), top(0x1000);
    GuestMemory view({{0x100000, mutable_byte_view(a)}, {UINT64_MAX - 0xfff, mutable_byte_view(top)}});
    CHECK_FALSE(view.translate(0, 1));           // below every region
    CHECK_FALSE(view.translate(0x101000, 1));    // in the gap
    CHECK(view.translate(UINT64_MAX - 0xfff, 0x1000));
    CHECK(view.translate(UINT64_MAX, 1));
    CHECK_FALSE(view.translate(UINT64_MAX, 2));
    CHECK_FALSE(view.translate(UINT64_MAX - 0xfff, 0x1001));
}

TEST_CASE("guest memory: overlapping regions and regions wrapping past 2^64 are refused") {
    std::vector<std::uint8_t> a(0x1000), b(0x1000);
    CHECK_THROWS_AS(GuestMemory({{0, mutable_byte_view(a)}, {0x800, mutable_byte_view(b)}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemory({{UINT64_MAX - 0x7ff, mutable_byte_view(a)}}), std::invalid_argument);
    CHECK_NOTHROW(GuestMemory({{0, mutable_byte_view(a)}, {0x1000, mutable_byte_view(b)}}));
}

TEST_CASE("guest memory: translate gives an empty view for an empty range, the shared accessors refuse it") {
    std::vector<std::uint8_t> ram(0x1000);
    GuestMemory mem({{0x1000, mutable_byte_view(ram)}});
    auto inside = mem.translate(0x1800, 0);
    REQUIRE(inside);
    CHECK(inside->empty());
    CHECK(mem.translate(0x2000, 0));  // at the end of the region
    CHECK_FALSE(mem.translate(0x2001, 0));
    CHECK_FALSE(mem.translate(0xfff, 0));
    CHECK_FALSE(mem.contains(0x1800, 0));
    CHECK_FALSE(mem.region(0x1800, 0));
    CHECK_FALSE(mem.read(0x1800, {}));
    CHECK_FALSE(mem.write(0x1800, {}));
}

TEST_CASE("guest memory: a range starting inside but ending outside a mapping is refused") {
    std::vector<std::uint8_t> ram(4096, 0);
    GuestMemory mem({{0x1000, {ram.data(), ram.size()}}});

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
    GuestMemory mem({{0x1000, {ram.data(), ram.size()}}});

    CHECK_FALSE(mem.contains(0x1000, max64));
    CHECK_FALSE(mem.contains(0x1008, max64 - 7));  // gpa + len wraps to 0x1000
    CHECK_FALSE(mem.contains(max64, 1));
    CHECK_FALSE(mem.contains(max64, 2));
    CHECK_FALSE(mem.region(0x1000, max64).has_value());
    std::vector<std::uint8_t> out(16);
    CHECK_FALSE(mem.read(max64 - 7, out));

    // A mapping that ends exactly at 2^64.
    std::vector<std::uint8_t> top(4096, 0);
    GuestMemory high({{max64 - 4095, {top.data(), top.size()}}});
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
    CHECK_THROWS_AS(GuestMemory({{0, mutable_byte_view{}}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemory({{0, {a.data(), 0}}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemory({{max64 - 4094, {a.data(), 4096}}}), std::invalid_argument);  // wraps by one
    CHECK_THROWS_AS(GuestMemory({{0x1000, {a.data(), 4096}}, {0x1fff, {b.data(), 4096}}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemory({{0x1000, {a.data(), 4096}}, {0x1000, {b.data(), 4096}}}), std::invalid_argument);
    CHECK_NOTHROW(GuestMemory({{0x2000, {b.data(), 4096}}, {0x1000, {a.data(), 4096}}}));  // adjacent, any order
}

TEST_CASE("guest memory: several mappings route each access to its own, and a range spanning two is refused") {
    std::vector<std::uint8_t> low(4096, 0xaa), mid(4096, 0xbb), high(4096, 0xcc);
    // low and mid adjacent; a gap before high.
    GuestMemory mem({{0x100000, {high.data(), high.size()}}, {0, {low.data(), low.size()}}, {0x1000, {mid.data(), mid.size()}}});
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
    GuestMemory mem({{0x8000, {ram.data(), ram.size()}}});
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
