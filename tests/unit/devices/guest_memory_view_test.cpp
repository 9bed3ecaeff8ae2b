#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "devices/guest_memory_view.hpp"

using ktstr::mutable_byte_view;
using ktstr::vmm::devices::GuestMemoryView;

TEST_CASE("guest memory view translates ranges wholly inside one region", "[devices][memory]") {
    std::vector<std::uint8_t> low(0x1000), high(0x2000);
    GuestMemoryView view({{0x10000, mutable_byte_view(high)}, {0, mutable_byte_view(low)}});

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

TEST_CASE("guest memory view refuses ranges that leave RAM", "[devices][memory]") {
    std::vector<std::uint8_t> low(0x1000), next(0x1000);
    GuestMemoryView view({{0, mutable_byte_view(low)}, {0x1000, mutable_byte_view(next)}});

    CHECK_FALSE(view.translate(0x0ff0, 0x11 + 0x1000));  // start in range, end past both regions
    CHECK_FALSE(view.translate(0x0ff0, 0x20));           // straddles two adjacent regions
    CHECK_FALSE(view.translate(0x2000, 1));              // past the end
    CHECK_FALSE(view.translate(0x1000, 0x1001));         // one byte too long
    CHECK_FALSE(view.translate(0x10, UINT64_MAX));       // length alone wraps
    CHECK_FALSE(view.translate(UINT64_MAX - 4, 16));     // start + length wraps past 2^64
    CHECK_FALSE(view.translate(UINT64_MAX, 1));
}

TEST_CASE("guest memory view refuses gaps and regions near 2^64", "[devices][memory]") {
    std::vector<std::uint8_t> a(0x1000), top(0x1000);
    GuestMemoryView view({{0x100000, mutable_byte_view(a)}, {UINT64_MAX - 0xfff, mutable_byte_view(top)}});
    CHECK_FALSE(view.translate(0, 1));           // below every region
    CHECK_FALSE(view.translate(0x101000, 1));    // in the gap
    CHECK(view.translate(UINT64_MAX - 0xfff, 0x1000));
    CHECK(view.translate(UINT64_MAX, 1));
    CHECK_FALSE(view.translate(UINT64_MAX, 2));
    CHECK_FALSE(view.translate(UINT64_MAX - 0xfff, 0x1001));
}

TEST_CASE("guest memory view rejects overlapping and wrapping regions", "[devices][memory]") {
    std::vector<std::uint8_t> a(0x1000), b(0x1000);
    CHECK_THROWS_AS(GuestMemoryView({{0, mutable_byte_view(a)}, {0x800, mutable_byte_view(b)}}), std::invalid_argument);
    CHECK_THROWS_AS(GuestMemoryView({{UINT64_MAX - 0x7ff, mutable_byte_view(a)}}), std::invalid_argument);
    CHECK_NOTHROW(GuestMemoryView({{0, mutable_byte_view(a)}, {0x1000, mutable_byte_view(b)}}));
}
