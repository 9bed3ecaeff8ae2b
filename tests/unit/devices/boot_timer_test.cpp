// The boot timer: the first write of each known mark is timed; anything
// else a guest writes there is ignored.
#include <catch2/catch.hpp>

#include "devices/boot_timer.hpp"

using namespace ktstr;
using namespace ktstr::vmm::devices;

namespace {

byte_buffer le32(std::uint32_t v) {
    byte_buffer b(4);
    store_le(b.data(), v);
    return b;
}

}  // namespace

TEST_CASE("the boot timer keeps the first time of each mark", "[devices][boot_timer]") {
    BootTimer t;
    CHECK_FALSE(t.first(BootMark::init_started));
    const auto before = BootTimer::clock::now();
    t.write(0, le32(1));
    const auto first = t.first(BootMark::init_started);
    REQUIRE(first);
    CHECK(*first >= before);
    CHECK(*first <= BootTimer::clock::now());
    // A second write of the same mark keeps the first time: a marker that
    // is not reached again, whatever the guest does later.
    t.write(0, le32(1));
    CHECK(t.first(BootMark::init_started) == first);
}

TEST_CASE("the boot timer ignores what is not a mark", "[devices][boot_timer]") {
    BootTimer t;
    t.write(0, le32(0));
    t.write(0, le32(boot_mark_count + 1));
    t.write(0, le32(0xffff'ffff));
    t.write(4, le32(1));                      // another offset
    t.write(0, byte_buffer{1});               // another width
    t.write(0, byte_buffer{1, 0, 0, 0, 0, 0, 0, 0});
    CHECK_FALSE(t.first(BootMark::init_started));
    byte_buffer r(8, 0xaa);
    BootTimer::read(0, r);
    CHECK(r == byte_buffer(8, 0));
}
