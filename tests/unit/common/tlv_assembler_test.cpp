#include <catch2/catch.hpp>

#include <random>

#include "ktstr/common/crc32.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/tlv_assembler.hpp"

using namespace ktstr;

namespace {

struct Sent {
    std::uint32_t type;
    byte_buffer payload;
};

std::vector<Frame> drain(TlvAssembler& a) {
    std::vector<Frame> out;
    while (auto f = a.next())
        out.push_back(std::move(*f));
    return out;
}

void append(byte_buffer& stream, std::uint32_t type, byte_view payload) {
    auto f = encode_frame(type, payload);
    stream.insert(stream.end(), f.begin(), f.end());
}

}  // namespace

TEST_CASE("one frame fed whole", "[assembler]") {
    TlvAssembler a;
    std::string p = "payload";
    a.feed(encode_frame(1, as_bytes(p)));
    auto f = a.next();
    REQUIRE(f);
    CHECK(f->msg_type() == 1);
    CHECK(std::string(f->payload.begin(), f->payload.end()) == p);
    CHECK(f->crc_ok);
    CHECK_FALSE(a.next());
    CHECK(a.buffered() == 0);
}

TEST_CASE("a frame fed one byte at a time appears only when complete", "[assembler]") {
    TlvAssembler a;
    std::string p = "split inside the header too";
    auto s = encode_frame(2, as_bytes(p));
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        a.feed(byte_view(&s[i], 1));
        REQUIRE_FALSE(a.next());
        REQUIRE(a.buffered() == i + 1);
    }
    a.feed(byte_view(&s.back(), 1));
    auto f = a.next();
    REQUIRE(f);
    CHECK(f->payload.size() == p.size());
}

TEST_CASE("property: random splits of a random frame stream reassemble to the same frames", "[assembler]") {
    std::mt19937_64 rng(GENERATE(1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u));
    std::vector<Sent> sent;
    byte_buffer stream;
    auto count = 1 + rng() % 200;
    for (std::size_t i = 0; i < count; ++i) {
        Sent s{static_cast<std::uint32_t>(rng()), byte_buffer(rng() % 3 == 0 ? rng() % 5000 : rng() % 40)};
        for (auto& b : s.payload)
            b = static_cast<std::uint8_t>(rng());
        append(stream, s.type, s.payload);
        sent.push_back(std::move(s));
    }
    TlvAssembler a;
    std::vector<Frame> got;
    std::size_t at = 0;
    while (at < stream.size()) {
        std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + rng() % (rng() % 2 ? 7 : 9000));
        a.feed(byte_view(stream.data() + at, n));
        at += n;
        for (auto& f : drain(a))
            got.push_back(std::move(f));
    }
    REQUIRE(got.size() == sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        REQUIRE(got[i].msg_type() == sent[i].type);
        REQUIRE(got[i].payload == sent[i].payload);
        REQUIRE(got[i].crc_ok);
    }
    CHECK(a.buffered() == 0);
    CHECK(a.stats().frames == sent.size());
    CHECK(a.stats().crc_errors == 0);
}

TEST_CASE("CRC failure is reported per frame and the frames after it survive", "[assembler]") {
    byte_buffer stream;
    std::string a1 = "one", a2 = "two", a3 = "three";
    append(stream, 1, as_bytes(a1));
    append(stream, 2, as_bytes(a2));
    append(stream, 3, as_bytes(a3));
    stream[16 + 3 + 16] ^= 0x01;  // first payload byte of frame 2
    TlvAssembler a;
    a.feed(stream);
    auto f = drain(a);
    REQUIRE(f.size() == 3);
    CHECK(f[0].crc_ok);
    CHECK_FALSE(f[1].crc_ok);
    CHECK(f[2].crc_ok);
    CHECK(a.stats().crc_errors == 1);
}

TEST_CASE("non-zero pad is counted and the frame still delivered", "[assembler]") {
    std::string p = "x";
    auto s = encode_frame(1, as_bytes(p));
    s[12] = 7;
    TlvAssembler a;
    a.feed(s);
    auto f = a.next();
    REQUIRE(f);
    CHECK(f->header.pad == 7);
    CHECK(a.stats().nonzero_pad == 1);
}

TEST_CASE("a complete oversized frame drops everything buffered, then resyncs", "[assembler]") {
    TlvAssembler a(64);  // small cap keeps the test small
    byte_buffer stream;
    byte_buffer big(65, 0xAB);
    append(stream, 9, big);                  // over the cap
    std::string trailing = "lost too";
    append(stream, 1, as_bytes(trailing));   // buffered with it: dropped
    a.feed(stream);
    CHECK(drain(a).empty());
    CHECK(a.stats().oversize_frames == 1);
    CHECK(a.stats().dropped_bytes == stream.size());
    CHECK(a.buffered() == 0);
    std::string after = "after";
    a.feed(encode_frame(2, as_bytes(after)));
    auto f = drain(a);
    REQUIRE(f.size() == 1);
    CHECK(f[0].msg_type() == 2);
}

TEST_CASE("a frame exactly at the cap is accepted", "[assembler]") {
    TlvAssembler a(64);
    byte_buffer p(64, 1);
    a.feed(encode_frame(1, p));
    auto f = drain(a);
    REQUIRE(f.size() == 1);
    CHECK(f[0].payload.size() == 64);
}

TEST_CASE("a huge announced length never allocates by its length", "[assembler]") {
    TlvAssembler a(64);
    FrameHeader h{1, 0xFFFFFFFF, 0, 0};
    std::array<std::uint8_t, 16> hb{};
    encode_frame_header(h, hb);
    a.feed(hb);
    CHECK_FALSE(a.next());
    CHECK(a.buffered() == 16);
    // Feed filler: the residue is dropped once above twice the cap.
    byte_buffer filler(100, 0);
    a.feed(filler);
    CHECK_FALSE(a.next());
    CHECK(a.buffered() == 116);
    a.feed(filler);
    CHECK_FALSE(a.next());
    CHECK(a.buffered() == 0);
    CHECK(a.stats().overflow_resets == 1);
    CHECK(a.stats().dropped_bytes == 216);
}

TEST_CASE("default cap is ktstr's 16 MiB", "[assembler]") {
    TlvAssembler a;
    CHECK(a.max_payload() == 16u * 1024 * 1024);
    CHECK(max_bulk_frame_payload == 16u << 20);
}

// consume() parses frames inside a chunk where they lie; it must decide
// exactly as feed() + next() do, drops and counters included.
TEST_CASE("property: consume() gives the frames and counters of feed() and next()", "[assembler]") {
    const auto seed = GENERATE(range(1u, 41u));
    std::mt19937_64 rng(seed);
    constexpr std::uint32_t cap = 64;  // small, so oversize and overflow happen
    byte_buffer stream;
    const auto count = 1 + rng() % 300;
    for (std::size_t i = 0; i < count; ++i) {
        byte_buffer payload(rng() % 4 == 0 ? rng() % 200 : rng() % 70);
        for (auto& b : payload)
            b = static_cast<std::uint8_t>(rng());
        auto f = encode_frame(static_cast<std::uint32_t>(rng() % 5), payload);
        switch (rng() % 16) {
        case 0: f[8] ^= 1; break;              // CRC mismatch
        case 1: f[12] = 1; break;              // non-zero pad
        case 2: f.resize(rng() % f.size()); break;  // cut short: the stream slips
        case 3: store_le<std::uint32_t>(f.data() + 4, static_cast<std::uint32_t>(rng())); break;  // lying length
        default: break;
        }
        stream.insert(stream.end(), f.begin(), f.end());
    }
    TlvAssembler fed(cap), consumed(cap);
    std::vector<Frame> want, got;
    for (std::size_t at = 0; at < stream.size();) {
        const std::size_t n = std::min<std::size_t>(stream.size() - at, rng() % (rng() % 2 ? 9 : 400));
        const byte_view chunk(stream.data() + at, n);
        at += n;
        fed.feed(chunk);
        for (auto& f : drain(fed))
            want.push_back(std::move(f));
        const std::size_t before = got.size();
        const std::size_t delivered = consumed.consume(chunk, [&](Frame&& f) { got.push_back(std::move(f)); });
        CHECK(delivered == got.size() - before);
        REQUIRE(consumed.buffered() == fed.buffered());
    }
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        REQUIRE(got[i].msg_type() == want[i].msg_type());
        REQUIRE(got[i].payload == want[i].payload);
        REQUIRE(got[i].crc_ok == want[i].crc_ok);
        REQUIRE(got[i].header.pad == want[i].header.pad);
    }
    const auto& a = fed.stats();
    const auto& b = consumed.stats();
    CHECK(b.frames == a.frames);
    CHECK(b.crc_errors == a.crc_errors);
    CHECK(b.nonzero_pad == a.nonzero_pad);
    CHECK(b.oversize_frames == a.oversize_frames);
    CHECK(b.overflow_resets == a.overflow_resets);
    CHECK(b.dropped_bytes == a.dropped_bytes);
}

TEST_CASE("consume() copies only a frame that straddles chunks", "[assembler]") {
    TlvAssembler a;
    byte_buffer stream;
    append(stream, 1, byte_buffer(100, 1));
    append(stream, 2, byte_buffer(100, 2));
    append(stream, 3, byte_buffer(100, 3));
    // The first chunk ends inside the second frame: the first is delivered
    // from the chunk, only the second's start is kept.
    const std::size_t cut = 116 + 50;
    std::vector<Frame> got;
    auto take = [&](Frame&& f) { got.push_back(std::move(f)); };
    CHECK(a.consume(byte_view(stream).first(cut), take) == 1);
    CHECK(a.buffered() == 50);
    CHECK(a.consume(byte_view(stream).subspan(cut), take) == 2);
    CHECK(a.buffered() == 0);
    REQUIRE(got.size() == 3);
    CHECK(got[1].payload == byte_buffer(100, 2));
    // Frames left by feed() come out first.
    a.feed(encode_frame(4, byte_buffer(3, 4)));
    CHECK(a.consume({}, take) == 1);
    CHECK(got.back().msg_type() == 4);
}
