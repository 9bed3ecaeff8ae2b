#include <catch2/catch.hpp>

#include <array>
#include <limits>

#include "ktstr/common/hex.hpp"

using namespace ktstr;

TEST_CASE("to_hex of bytes: two lowercase digits each, nothing else", "[hex]") {
    const std::array<std::uint8_t, 4> b{0x00, 0xab, 0x0f, 0xf0};
    CHECK(to_hex(byte_view(b)) == "00ab0ff0");
    CHECK(to_hex(byte_view{}).empty());
}

TEST_CASE("to_hex of a number: 0x and no leading zeros", "[hex]") {
    CHECK(to_hex(std::uint64_t{0}) == "0x0");
    CHECK(to_hex(std::uint64_t{0xfee00000}) == "0xfee00000");
    CHECK(to_hex(std::uint64_t{0x100}) == "0x100");
    CHECK(to_hex(std::numeric_limits<std::uint64_t>::max()) == "0xffffffffffffffff");
    CHECK(to_hex(std::uint32_t{0x53544d52}) == "0x53544d52");  // a u32 reads as its value
}
