#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "machine/bus.hpp"

using namespace ktstr;
using namespace ktstr::vmm::machine;

namespace {

struct Recorder {
    std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> writes;
    BusDevice device(std::string name, std::uint8_t fill) {
        return {std::move(name),
                [fill](std::uint64_t offset, mutable_byte_view d) {
                    for (std::size_t i = 0; i < d.size(); ++i)
                        d[i] = static_cast<std::uint8_t>(fill + offset + i);
                },
                [this](std::uint64_t offset, byte_view d) { writes.emplace_back(offset, std::vector(d.begin(), d.end())); }};
    }
};

}  // namespace

TEST_CASE("the bus dispatches by range with offsets from the range start") {
    Bus bus;
    Recorder a, b;
    bus.add({0x3f8, 8}, a.device("com1", 0x10));
    bus.add({0x2f8, 8}, b.device("com2", 0x20));

    std::array<std::uint8_t, 1> one{};
    CHECK(bus.read(0x3fd, one));
    CHECK(one[0] == 0x15);
    CHECK(bus.read(0x2f8, one));
    CHECK(one[0] == 0x20);

    const std::array<std::uint8_t, 2> two{1, 2};
    CHECK(bus.write(0x2fe, two));
    REQUIRE(b.writes.size() == 1);
    CHECK(b.writes[0].first == 6);
    CHECK(b.writes[0].second == std::vector<std::uint8_t>{1, 2});
    CHECK(a.writes.empty());
}

TEST_CASE("accesses outside every range, or straddling a range's end, are unclaimed") {
    Bus bus;
    Recorder a;
    bus.add({0x1000, 0x100}, a.device("dev", 0));
    std::array<std::uint8_t, 4> four{};
    CHECK_FALSE(bus.read(0xfff, four));       // starts before
    CHECK_FALSE(bus.read(0x10fe, four));      // runs past the end
    CHECK(bus.read(0x10fc, four));            // ends exactly at the end
    CHECK_FALSE(bus.write(0x1100, four));     // just after
    CHECK_FALSE(bus.read(~0ull - 1, four));   // near 2^64, no wrap
    CHECK(a.writes.empty());
}

TEST_CASE("overlapping or empty ranges are refused") {
    Bus bus;
    Recorder a;
    bus.add({0x100, 0x10}, a.device("a", 0));
    CHECK_THROWS_AS(bus.add({0x10f, 1}, a.device("b", 0)), std::invalid_argument);
    CHECK_THROWS_AS(bus.add({0xf8, 0x10}, a.device("c", 0)), std::invalid_argument);
    CHECK_THROWS_AS(bus.add({0x200, 0}, a.device("d", 0)), std::invalid_argument);
    CHECK_NOTHROW(bus.add({0x110, 0x10}, a.device("e", 0)));
}
