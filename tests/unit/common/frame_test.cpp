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

TEST_CASE("received_frame keeps the header as announced and checks the payload CRC", "[frame]") {
    const std::string payload = "hello";
    auto h = make_frame_header(0x534F5554, as_bytes(payload));
    h.pad = 7;  // reported, never trusted
    auto f = received_frame(h, byte_buffer(payload.begin(), payload.end()));
    CHECK(f.crc_ok);
    CHECK(f.msg_type() == 0x534F5554);
    CHECK(f.header.pad == 7);
    CHECK(std::string(f.payload.begin(), f.payload.end()) == "hello");

    h.crc32 ^= 1;
    CHECK_FALSE(received_frame(h, byte_buffer(payload.begin(), payload.end())).crc_ok);
    CHECK(received_frame(FrameHeader{1, 0, 0, 0}, {}).crc_ok);  // an empty payload's CRC is 0
}
