// Edge cases of the SHM ring, including every defence ktstr's own tests pin.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <thread>

#include "ktstr/common/crc32.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/shm_ring.hpp"

using namespace ktstr;

namespace {

byte_buffer make_ring(std::size_t size) {
    byte_buffer b(size, 0xEE);  // non-zero so ring_init's zeroing is observable
    ring_init(SpanRegion(b));
    return b;
}

void put64(byte_buffer& b, std::size_t off, std::uint64_t v) { store_le(b.data() + off, v); }
void put32(byte_buffer& b, std::size_t off, std::uint32_t v) { store_le(b.data() + off, v); }
std::uint64_t get64(const byte_buffer& b, std::size_t off) { return load_le<std::uint64_t>(b.data() + off); }

RingWriteStatus write(byte_buffer& b, std::uint32_t type, std::string_view payload) {
    return ring_write(SpanRegion(b), type, as_bytes(payload));
}

RingDrainResult drain(byte_buffer& b) { return ring_drain(SpanRegion(b), DrainMode::peek); }

std::string text(const byte_buffer& p) { return std::string(p.begin(), p.end()); }

}  // namespace

TEST_CASE("header layout: 40 bytes, fields at fixed offsets", "[shm]") {
    STATIC_REQUIRE(sizeof(ShmRingHeader) == 40);
    auto b = make_ring(1024);
    CHECK(load_le<std::uint32_t>(b.data() + 0) == 0x53544D52);
    CHECK(load_le<std::uint32_t>(b.data() + 4) == 1);
    CHECK(load_le<std::uint32_t>(b.data() + 8) == 1024 - 40);
    CHECK(load_le<std::uint32_t>(b.data() + 12) == 0);  // control bytes
    CHECK(get64(b, 16) == 0);
    CHECK(get64(b, 24) == 0);
    CHECK(get64(b, 32) == 0);
    for (std::size_t i = 40; i < b.size(); ++i)
        REQUIRE(b[i] == 0);
    CHECK(shm::dump_req_offset == 12);
    CHECK(shm::stall_req_offset == 13);
    CHECK(shm::signal_slot_base == 14);
    CHECK(shm::signal_slot_base + shm::signal_slot_count == 16);
}

TEST_CASE("make_ring_header saturates sizes below the header", "[shm]") {
    CHECK(make_ring_header(0).capacity == 0);
    CHECK(make_ring_header(39).capacity == 0);
    CHECK(make_ring_header(40).capacity == 0);
    CHECK(make_ring_header(140).capacity == 100);
    CHECK(make_ring_header(std::size_t{1} << 31).capacity == shm::max_capacity);
    CHECK(make_ring_header(0).magic == shm::magic);
}

TEST_CASE("write and drain one, many, and empty messages", "[shm]") {
    auto b = make_ring(1024);
    CHECK(write(b, to_u32(MsgType::Exit), "abcd") == RingWriteStatus::written);
    CHECK(write(b, to_u32(MsgType::SysRdy), "") == RingWriteStatus::written);
    CHECK(write(b, to_u32(MsgType::Crash), "boom") == RingWriteStatus::written);
    auto r = drain(b);
    CHECK(r.status == RingDrainStatus::ok);
    REQUIRE(r.frames.size() == 3);
    CHECK(r.frames[0].msg_type() == to_u32(MsgType::Exit));
    CHECK(text(r.frames[0].payload) == "abcd");
    CHECK(r.frames[1].payload.empty());
    CHECK(r.frames[1].crc_ok);
    CHECK(r.frames[1].header.crc32 == 0);
    CHECK(text(r.frames[2].payload) == "boom");
    CHECK(r.read_ptr == 3 * 16 + 8);
    CHECK(r.bytes_pending == 0);
    // peek leaves read_ptr alone; consume stores it.
    CHECK(get64(b, 24) == 0);
    auto c = ring_drain(SpanRegion(b), DrainMode::consume);
    CHECK(c.frames.size() == 3);
    CHECK(get64(b, 24) == 56);
    CHECK(drain(b).frames.empty());
}

TEST_CASE("ring full bumps drops; exact fill accepted", "[shm]") {
    auto b = make_ring(40 + 80);  // 3 messages of 16 + 8
    CHECK(write(b, 1, "AAAAAAAA") == RingWriteStatus::written);
    CHECK(write(b, 2, "BBBBBBBB") == RingWriteStatus::written);
    CHECK(write(b, 3, "CCCCCCCC") == RingWriteStatus::written);
    CHECK(write(b, 4, "DDDDDDDD") == RingWriteStatus::dropped);
    // An empty message still needs 16 bytes; only 8 remain.
    CHECK(write(b, 5, "") == RingWriteStatus::dropped);
    auto r = drain(b);
    CHECK(r.frames.size() == 3);
    CHECK(r.drops == 2);
}

TEST_CASE("empty-payload write into 8 free bytes drops", "[shm]") {
    auto b = make_ring(40 + 24);
    CHECK(write(b, 1, "") == RingWriteStatus::written);
    CHECK(write(b, 1, "") == RingWriteStatus::dropped);
    CHECK(drain(b).drops == 1);
}

TEST_CASE("a message exactly the capacity fits, then the ring is empty after consume", "[shm]") {
    auto b = make_ring(40 + 64);
    std::string p(48, 'U');
    CHECK(write(b, 1, p) == RingWriteStatus::written);
    auto r = ring_drain(SpanRegion(b), DrainMode::consume);
    REQUIRE(r.frames.size() == 1);
    CHECK(r.frames[0].crc_ok);
    CHECK(text(r.frames[0].payload) == p);
    CHECK(drain(b).frames.empty());
}

TEST_CASE("drops counter saturates at UINT64_MAX", "[shm]") {
    auto b = make_ring(40 + 16);
    put64(b, 32, std::numeric_limits<std::uint64_t>::max() - 1);
    CHECK(write(b, 1, "too big for the ring") == RingWriteStatus::dropped);
    CHECK(write(b, 1, "too big for the ring") == RingWriteStatus::dropped);
    CHECK(get64(b, 32) == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("wraparound: payload and header split across the end", "[shm]") {
    auto b = make_ring(40 + 64);
    // Advance both pointers to 56 so the next header straddles the end.
    put64(b, 16, 56);
    put64(b, 24, 56);
    CHECK(write(b, 7, "wrapped!") == RingWriteStatus::written);
    auto r = drain(b);
    REQUIRE(r.frames.size() == 1);
    CHECK(r.frames[0].msg_type() == 7);
    CHECK(text(r.frames[0].payload) == "wrapped!");
    CHECK(r.frames[0].crc_ok);
    // Header bytes 0..7 at data offset 56..63, 8..15 at 0..7.
    CHECK(load_le<std::uint32_t>(b.data() + 40 + 56) == 7);

    // Payload split: pointers at 40 -> header at 40..55, payload 56..63 + 0..3.
    auto c = make_ring(40 + 64);
    put64(c, 16, 40);
    put64(c, 24, 40);
    CHECK(write(c, 9, "0123456789AB") == RingWriteStatus::written);
    auto rc = drain(c);
    REQUIRE(rc.frames.size() == 1);
    CHECK(text(rc.frames[0].payload) == "0123456789AB");
    CHECK(std::string(c.begin() + 40, c.begin() + 44) == "89AB");
}

TEST_CASE("many wraps with a consuming reader keep every message", "[shm]") {
    auto b = make_ring(40 + 100);
    std::mt19937 rng(7);
    std::uint64_t next_seq = 0, seen = 0;
    for (int round = 0; round < 500; ++round) {
        auto n = rng() % 4;
        for (unsigned i = 0; i < n; ++i) {
            std::string p(rng() % 30, static_cast<char>('a' + next_seq % 26));
            p += std::to_string(next_seq);
            if (write(b, 1, p) == RingWriteStatus::written)
                ++next_seq;
        }
        auto r = ring_drain(SpanRegion(b), DrainMode::consume);
        for (auto& e : r.frames) {
            REQUIRE(e.crc_ok);
            auto s = text(e.payload);
            REQUIRE(s.ends_with(std::to_string(seen)));
            ++seen;
        }
    }
    CHECK(seen == next_seq);
    CHECK(seen > 300);
}

TEST_CASE("u64 wraparound of write_ptr past read_ptr", "[shm]") {
    auto b = make_ring(4096);
    put64(b, 16, 10);
    put64(b, 24, std::numeric_limits<std::uint64_t>::max() - 5);  // used = 16
    CHECK(write(b, 1, "probe") == RingWriteStatus::written);
    CHECK(get64(b, 16) == 10 + 16 + 5);
}

TEST_CASE("drain with read_ptr near UINT64_MAX does not overflow", "[shm]") {
    auto b = make_ring(40 + 64);
    write(b, 1, "abcd");
    put64(b, 16, 5);
    put64(b, 24, std::numeric_limits<std::uint64_t>::max() - 14);  // unread = 20
    auto r = drain(b);
    CHECK(r.frames.size() <= 1);
}

TEST_CASE("torn header: read_ptr ahead of write_ptr", "[shm]") {
    auto b = make_ring(1024);
    put64(b, 16, 0);
    put64(b, 24, 100);
    CHECK(write(b, 1, "probe") == RingWriteStatus::invariant_violated);
    CHECK(get64(b, 32) == 0);  // not counted as a drop
    auto r = drain(b);
    CHECK(r.frames.empty());
    CHECK(r.status == RingDrainStatus::used_exceeds_capacity);
    // consume must not move read_ptr on a torn header
    ring_drain(SpanRegion(b), DrainMode::consume);
    CHECK(get64(b, 24) == 100);
}

TEST_CASE("used exactly capacity accepted, capacity + 1 rejected", "[shm]") {
    auto b = make_ring(40 + 32);
    std::string p(16, '\xCC');
    CHECK(write(b, 1, p) == RingWriteStatus::written);
    auto r = drain(b);
    REQUIRE(r.frames.size() == 1);
    CHECK(text(r.frames[0].payload) == p);

    auto c = make_ring(40 + 64);
    put64(c, 16, 65);
    auto rc = drain(c);
    CHECK(rc.frames.empty());
    CHECK(rc.status == RingDrainStatus::used_exceeds_capacity);
}

TEST_CASE("capacity 0, above 1 GiB, or beyond the region is rejected", "[shm]") {
    for (std::uint32_t cap : {0u, shm::max_capacity + 1, 0xFFFFFFFFu, 1024u - 40 + 1}) {
        INFO(cap);
        auto b = make_ring(1024);
        put32(b, 8, cap);
        put64(b, 16, 64);
        auto r = drain(b);
        CHECK(r.frames.empty());
        CHECK(r.status == RingDrainStatus::bad_capacity);
        CHECK(write(b, 1, "x") == RingWriteStatus::unusable);
    }
}

TEST_CASE("bad magic drains nothing", "[shm]") {
    auto b = make_ring(1024);
    write(b, 1, "x");
    put32(b, 0, 0xDEADBEEF);
    auto r = drain(b);
    CHECK(r.frames.empty());
    CHECK(r.status == RingDrainStatus::bad_magic);
}

TEST_CASE("regions smaller than the header are harmless", "[shm]") {
    byte_buffer tiny(39, 0);
    CHECK(drain(tiny).status == RingDrainStatus::region_too_small);
    CHECK(write(tiny, 1, "x") == RingWriteStatus::unusable);
    ring_init(SpanRegion(tiny));
    CHECK(std::all_of(tiny.begin(), tiny.end(), [](auto v) { return v == 0; }));
    byte_buffer empty;
    CHECK(drain(empty).status == RingDrainStatus::region_too_small);
    // exactly a header: capacity 0 -> unusable for writes, drained as bad capacity
    auto h = make_ring(40);
    CHECK(write(h, 1, "") == RingWriteStatus::unusable);
    CHECK(drain(h).status == RingDrainStatus::bad_capacity);
}

TEST_CASE("torn message length is rejected before allocating", "[shm]") {
    auto b = make_ring(1024);
    put32(b, 40 + 0, 1);
    put32(b, 40 + 4, 0xFFFFFFFF);
    put64(b, 16, 64);
    auto r = drain(b);
    CHECK(r.frames.empty());
    CHECK(r.status == RingDrainStatus::torn_length);
}

TEST_CASE("incomplete message after a complete one is left for later", "[shm]") {
    auto b = make_ring(1024);
    write(b, 1, "complete");
    auto wp = get64(b, 16);
    // A header claiming 100 bytes, with only 20 bytes published.
    put32(b, 40 + wp, 99);
    put32(b, 40 + wp + 4, 100);
    put64(b, 16, wp + 20);
    auto r = ring_drain(SpanRegion(b), DrainMode::consume);
    REQUIRE(r.frames.size() == 1);
    CHECK(text(r.frames[0].payload) == "complete");
    CHECK(r.bytes_pending == 20);
    CHECK(get64(b, 24) == wp);
}

TEST_CASE("CRC mismatch is reported, later messages still drained", "[shm]") {
    auto b = make_ring(1024);
    write(b, 1, "first");
    write(b, 2, "second");
    b[40 + 16] ^= 0xFF;  // corrupt first payload byte
    auto r = drain(b);
    REQUIRE(r.frames.size() == 2);
    CHECK_FALSE(r.frames[0].crc_ok);
    CHECK(r.frames[1].crc_ok);
}

TEST_CASE("frames in the ring are the wire frames", "[shm]") {
    auto b = make_ring(1024);
    StimulusPayload s{10, 1, 2, 3, 4, 5, 6};
    auto sb = encode(s);
    REQUIRE(ring_write(SpanRegion(b), to_u32(MsgType::Stimulus), sb) == RingWriteStatus::written);
    auto expect = encode_frame(to_u32(MsgType::Stimulus), sb);
    CHECK(std::equal(expect.begin(), expect.end(), b.begin() + 40));
    auto r = drain(b);
    REQUIRE(r.frames.size() == 1);
    CHECK(decode_stimulus(r.frames[0].payload) == s);
}

TEST_CASE("shared region: control bytes and signal slots", "[shm]") {
    auto b = make_ring(256);
    SharedRegion r(b.data(), b.size());
    ring_signal(r, 0, shm::signal_shutdown_req);
    ring_signal(r, 1, shm::signal_probes_ready);
    CHECK(b[14] == 0xDD);
    CHECK(b[15] == 2);
    CHECK(ring_read_signal(r, 0) == 0xDD);
    ring_signal(r, 2, 9);  // out of range: ignored
    CHECK(b[16] == 0);
    CHECK(ring_read_signal(r, 2) == 0);
    ring_store_control(r, shm::dump_req_offset, shm::dump_req_sysrq_d);
    ring_store_control(r, shm::stall_req_offset, shm::stall_req_activate);
    CHECK(b[12] == 'D');
    CHECK(b[13] == 'S');
    ring_store_control(r, 16, 1);  // write_ptr byte: not a control byte
    CHECK(b[16] == 0);
    byte_buffer small(20, 0);
    SharedRegion s(small.data(), small.size());
    ring_signal(s, 0, 1);  // region smaller than a header: ignored
    CHECK(small[14] == 0);
}

TEST_CASE("shared region: concurrent producer and consumer agree", "[shm]") {
    // 8-byte aligned backing so the header words take the atomic path.
    std::vector<std::uint64_t> storage((40 + 4096) / 8);
    SharedRegion r(reinterpret_cast<std::uint8_t*>(storage.data()), storage.size() * 8);
    ring_init(r);
    constexpr int total = 20000;
    std::uint64_t full = 0;
    std::thread producer([&] {
        for (int i = 0; i < total;) {
            auto p = std::to_string(i);
            if (ring_write(r, 1, as_bytes(p)) == RingWriteStatus::written) {
                ++i;
            } else {
                ++full;
                std::this_thread::yield();
            }
        }
    });
    int seen = 0;
    bool all_ok = true;
    while (seen < total) {
        auto d = ring_drain(r, DrainMode::consume);
        for (auto& e : d.frames) {
            all_ok = all_ok && e.crc_ok && text(e.payload) == std::to_string(seen);
            ++seen;
        }
        if (d.frames.empty())
            std::this_thread::yield();
    }
    producer.join();
    CHECK(all_ok);
    CHECK(seen == total);
    // Every refused write was counted, and nothing else was.
    CHECK(ring_read_header(r).drops == full);
}

TEST_CASE("a frame straddling write_ptr's 2^64 wrap reads back intact", "[shm]") {
    // 2^64 mod 48 = 16, so position 2^64 - 1 is offset 15 and the wrapped
    // pointer 15 is offset 15 too: laid out naively, the payload would
    // overwrite the header.
    auto b = make_ring(40 + 48);
    put64(b, 16, std::numeric_limits<std::uint64_t>::max());
    put64(b, 24, std::numeric_limits<std::uint64_t>::max());
    std::string p(17, 'w');
    CHECK(write(b, 3, p) == RingWriteStatus::written);
    auto r = drain(b);
    REQUIRE(r.frames.size() == 1);
    CHECK(r.frames[0].crc_ok);
    CHECK(text(r.frames[0].payload) == p);
}
