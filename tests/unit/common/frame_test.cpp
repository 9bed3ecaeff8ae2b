#include <catch2/catch.hpp>

#include "ktstr/common/crc32.hpp"
#include "ktstr/common/frame.hpp"

using namespace ktstr;

TEST_CASE("frame header encodes little-endian at fixed offsets", "[frame]") {
    FrameHeader h{0x45584954, 4, 0xdeadbeef, 0};
    std::array<std::uint8_t, 16> b{};
    encode_frame_header(h, b);
    // A byte dump of EXIT shows "TIXE".
    CHECK(std::string(b.begin(), b.begin() + 4) == "TIXE");
    CHECK(b[4] == 4);
    CHECK(b[8] == 0xef);
    CHECK(b[11] == 0xde);
    auto back = decode_frame_header(b);
    CHECK(back.msg_type == h.msg_type);
    CHECK(back.length == 4);
    CHECK(back.crc32 == 0xdeadbeef);
    CHECK(back.pad == 0);
}

TEST_CASE("encode_frame carries length and payload CRC", "[frame]") {
    std::string payload = "hello";
    auto f = encode_frame(0x534F5554, as_bytes(payload));
    REQUIRE(f.size() == 16 + 5);
    auto h = decode_frame_header(std::span<const std::uint8_t, 16>(f.data(), 16));
    CHECK(h.length == 5);
    CHECK(h.crc32 == crc32(as_bytes(payload)));
    CHECK(h.pad == 0);
    CHECK(std::string(f.begin() + 16, f.end()) == "hello");
}

TEST_CASE("empty payload frame has CRC 0", "[frame]") {
    auto f = encode_frame(0x53524459, {});
    REQUIRE(f.size() == 16);
    auto h = decode_frame_header(std::span<const std::uint8_t, 16>(f.data(), 16));
    CHECK(h.length == 0);
    CHECK(h.crc32 == 0);
}
