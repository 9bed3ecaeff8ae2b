#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "ktstr/common/frame.hpp"
#include "ktstr/host/bulk_channel.hpp"

using namespace ktstr;
using namespace ktstr::host;

namespace {

byte_buffer payload_of(std::uint32_t i) {
    byte_buffer b(i % 300 + (i % 7 == 0 ? 70000 : 0));  // some frames span many chunks
    for (std::size_t k = 0; k < b.size(); ++k)
        b[k] = static_cast<std::uint8_t>(i + k * 13);
    return b;
}

}  // namespace

TEST_CASE("bulk channel: frames handed over in random chunks from another thread arrive whole and in order") {
    constexpr std::uint32_t count = 2000;
    byte_buffer stream;
    for (std::uint32_t i = 0; i < count; ++i) {
        auto f = encode_frame(0x53000000 + i, payload_of(i));
        stream.insert(stream.end(), f.begin(), f.end());
    }

    std::mutex m;
    std::condition_variable cv;
    bool woken = false;
    BulkChannel channel({}, {}, [&] {
        std::lock_guard lock(m);
        woken = true;
        cv.notify_one();
    });

    std::atomic<bool> all_accepted{true};
    std::thread device([&] {
        std::mt19937 rng(1234);
        std::uniform_int_distribution<std::size_t> size(1, 9000);
        for (std::size_t off = 0; off < stream.size();) {
            const auto n = std::min(size(rng), stream.size() - off);
            // The bound (64 MiB) exceeds the whole stream: nothing is refused.
            if (!channel.hand_over(byte_view(stream).subspan(off, n)))
                all_accepted = false;
            off += n;
        }
    });

    std::uint32_t next = 0;
    bool in_order = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (next < count && std::chrono::steady_clock::now() < deadline) {
        {
            std::unique_lock lock(m);
            cv.wait_until(lock, deadline, [&] { return woken; });
            woken = false;
        }
        channel.pump([&](Frame&& f) {
            in_order = in_order && f.crc_ok && f.msg_type() == 0x53000000 + next && f.payload == payload_of(next);
            ++next;
        });
    }
    device.join();
    CHECK(all_accepted);
    CHECK(in_order);
    CHECK(next == count);
    const auto s = channel.stats();
    CHECK(s.received_bytes == stream.size());
    CHECK(s.handover_dropped_bytes == 0);
    CHECK(s.assembler.frames == count);
    CHECK(s.trailing_bytes == 0);
}

TEST_CASE("bulk channel: the backlog is bounded by its cost and a refused hand-over is counted whole") {
    // What one chunk costs beyond its bytes (its record and bookkeeping).
    BulkChannel probe({}, {}, {});
    REQUIRE(probe.hand_over(byte_buffer(1, 0)));
    const std::size_t fixed = probe.backlog_cost() - 1;
    CHECK(fixed >= BulkChannel::chunk_overhead);

    int wakes = 0;
    BulkChannel channel({.backlog_limit = 100 + fixed}, {}, [&] { ++wakes; });
    const byte_buffer sixty(60, 0);
    CHECK(channel.hand_over(sixty));
    CHECK(channel.backlog_bytes() == 60);
    CHECK(channel.backlog_cost() == 60 + fixed);
    CHECK_FALSE(channel.hand_over(sixty));
    CHECK(channel.hand_over(byte_view(sixty).first(40)));  // exactly up to the bound
    CHECK(channel.backlog_cost() == 100 + fixed);
    CHECK_FALSE(channel.hand_over(byte_view(sixty).first(1)));
    CHECK(wakes == 1);  // one wake per batch, however many hand-overs
    auto s = channel.stats();
    CHECK(s.handover_dropped_chunks == 2);
    CHECK(s.handover_dropped_bytes == 61);
    CHECK(s.received_bytes == 100);

    channel.pump([](Frame&&) {});
    CHECK(channel.backlog_bytes() == 0);
    CHECK(channel.backlog_cost() == 0);
    CHECK(channel.hand_over(sixty));  // room again after the pump
    CHECK(wakes == 2);

    channel.close();
    CHECK_FALSE(channel.hand_over(sixty));
    CHECK(channel.stats().handover_dropped_chunks == 3);
}

TEST_CASE("bulk channel: a million 1-byte hand-overs fit in 1 MiB of backlog and arrive intact and in order") {
    // Frames of 100 bytes, a million bytes in all, handed over a byte at a
    // time, as a guest using 1-byte virtqueue buffers would. Counting
    // payload bytes only, the queue held 8 more bytes of bookkeeping per
    // byte (583 MiB under a 64 MiB limit).
    byte_buffer stream;
    std::uint32_t frames = 0;
    while (stream.size() < 1000000) {
        auto f = encode_frame(0x53000000 + frames, byte_buffer(84, static_cast<std::uint8_t>(frames)));
        stream.insert(stream.end(), f.begin(), f.end());
        ++frames;
    }
    REQUIRE(stream.size() == 1000000);

    constexpr std::size_t limit = 1 << 20;
    BulkChannel channel({.backlog_limit = limit}, {}, {});
    std::size_t refused = 0;
    for (std::size_t i = 0; i < stream.size(); ++i)
        refused += channel.hand_over(byte_view(stream).subspan(i, 1)) ? 0 : 1;
    CHECK(refused == 0);
    CHECK(channel.backlog_bytes() == stream.size());
    // About the bytes themselves: a few records and chunks on top.
    CHECK(channel.backlog_cost() <= limit);
    CHECK(channel.backlog_cost() <= stream.size() + 16 * (BulkChannel::chunk_overhead + 64));

    std::uint32_t next = 0;
    bool intact = true;
    channel.pump([&](Frame&& f) {
        intact = intact && f.crc_ok && f.msg_type() == 0x53000000 + next &&
                 f.payload == byte_buffer(84, static_cast<std::uint8_t>(next));
        ++next;
    });
    CHECK(intact);
    CHECK(next == frames);
    CHECK(channel.stats().trailing_bytes == 0);
    CHECK(channel.backlog_cost() == 0);
}

TEST_CASE("bulk channel: hand-overs of changing sizes are charged their records and refused at the limit") {
    // 1 and 2 bytes in turn: every hand-over needs a record of its own.
    constexpr std::size_t limit = 1 << 20;
    BulkChannel channel({.backlog_limit = limit}, {}, {});
    const byte_buffer two(2, 7);
    std::size_t accepted = 0, accepted_bytes = 0;
    for (;;) {
        const auto b = byte_view(two).first(1 + accepted % 2);
        if (!channel.hand_over(b))
            break;
        ++accepted;
        accepted_bytes += b.size();
    }
    CHECK(accepted < limit / 3);  // before the payload alone reached the limit
    CHECK(channel.backlog_bytes() == accepted_bytes);
    CHECK(channel.backlog_cost() <= limit);
    CHECK(channel.backlog_cost() >= accepted_bytes + 8 * accepted);  // a record per hand-over
    CHECK(channel.stats().handover_dropped_chunks == 1);
    // Once the queue is pumped there is room again.
    channel.pump([](Frame&&) {});
    CHECK(channel.hand_over(two));
}

TEST_CASE("bulk channel: garbage and huge lengths are counted by the assembler, valid frames after them still arrive") {
    BulkChannel channel({.backlog_limit = 1 << 20, .max_payload = 1024}, {}, {});
    std::vector<std::uint32_t> types;
    auto collect = [&](Frame&& f) { types.push_back(f.crc_ok ? f.msg_type() : 0xbad); };

    // A complete frame above the cap: everything buffered is dropped.
    byte_buffer big(16 + 2000, 0);
    encode_frame_header(make_frame_header(1, byte_view(big).subspan(16)), std::span<std::uint8_t, 16>(big.data(), 16));
    REQUIRE(channel.hand_over(big));
    channel.pump(collect);
    CHECK(types.empty());
    CHECK(channel.stats().assembler.oversize_frames == 1);

    // A header announcing 4 GiB, then more than twice the cap of bytes.
    FrameHeader h{7, 0xffffffff, 0, 0};
    std::array<std::uint8_t, 16> hb{};
    encode_frame_header(h, hb);
    REQUIRE(channel.hand_over(hb));
    REQUIRE(channel.hand_over(byte_buffer(3000, 0x41)));
    channel.pump(collect);
    CHECK(types.empty());
    CHECK(channel.stats().assembler.overflow_resets == 1);

    // A corrupted CRC is delivered as such; the next frame is fine.
    auto bad = encode_frame(2, byte_buffer(10, 1));
    bad.back() ^= 1;
    auto good = encode_frame(3, byte_buffer(10, 2));
    REQUIRE(channel.hand_over(bad));
    REQUIRE(channel.hand_over(good));
    channel.pump(collect);
    CHECK(types == std::vector<std::uint32_t>{0xbad, 3});
    CHECK(channel.stats().assembler.crc_errors == 1);
}

TEST_CASE("bulk channel: an oversize frame does not take a separately handed-over frame down with it") {
    // The device thread may hand over the oversize frame's tail and the
    // guest's next write before the loop pumps: they share a packed chunk,
    // but the drop ends where the oversize frame's hand-over ended.
    BulkChannel channel({.backlog_limit = 1 << 20, .max_payload = 1024}, {}, {});
    std::vector<std::uint32_t> types;
    auto collect = [&](Frame&& f) { types.push_back(f.crc_ok ? f.msg_type() : 0xbad); };

    byte_buffer big(16 + 2000, 0);
    encode_frame_header(make_frame_header(1, byte_view(big).subspan(16)), std::span<std::uint8_t, 16>(big.data(), 16));
    REQUIRE(channel.hand_over(encode_frame(2, byte_buffer(5, 2))));
    REQUIRE(channel.hand_over(byte_view(big).first(1000)));
    REQUIRE(channel.hand_over(byte_view(big).subspan(1000)));
    REQUIRE(channel.hand_over(encode_frame(3, byte_buffer(7, 3))));
    auto tail = encode_frame(4, byte_buffer(9, 4));
    REQUIRE(channel.hand_over(byte_view(tail).first(10)));  // a frame split across hand-overs still assembles
    REQUIRE(channel.hand_over(byte_view(tail).subspan(10)));
    channel.pump(collect);
    CHECK(types == std::vector<std::uint32_t>{2, 3, 4});
    CHECK(channel.stats().assembler.oversize_frames == 1);
    CHECK(channel.stats().assembler.dropped_bytes == big.size());
}

TEST_CASE("bulk channel: send passes bytes to the guest and counts what the device refused") {
    byte_buffer got;
    std::size_t room = 10;
    BulkChannel channel({}, [&](byte_view b) {
        const auto n = std::min(room, b.size());
        got.insert(got.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        room -= n;
        return n;
    }, {});
    CHECK(channel.send(byte_buffer(6, 1)));
    CHECK_FALSE(channel.send(byte_buffer(6, 2)));
    CHECK(got.size() == 10);
    CHECK(channel.stats().sent_bytes == 10);
    CHECK(channel.stats().send_refused_bytes == 2);

    BulkChannel mute({}, {}, {});
    CHECK_FALSE(mute.send(byte_buffer(4, 0)));
    CHECK(mute.stats().send_refused_bytes == 4);
}

TEST_CASE("bulk channel: chunks reused after a pump carry only the new bytes") {
    BulkChannel channel({}, {}, {});
    // Three rounds of 64 KiB frames, each in 32 KiB hand-overs (the chunks
    // fill exactly), then a round of small ones into the reused chunks.
    for (std::uint32_t round = 0; round < 4; ++round) {
        std::vector<byte_buffer> sent;
        byte_buffer stream;
        for (std::uint32_t i = 0; i < 40; ++i) {
            byte_buffer payload(round < 3 ? 65536 - frame_header_size : 10 + i);
            for (std::size_t k = 0; k < payload.size(); ++k)
                payload[k] = static_cast<std::uint8_t>(round * 101 + i * 7 + k);
            const auto f = encode_frame(1, payload);
            stream.insert(stream.end(), f.begin(), f.end());
            sent.push_back(std::move(payload));
        }
        for (std::size_t at = 0; at < stream.size(); at += 32768)
            REQUIRE(channel.hand_over(byte_view(stream).subspan(at, std::min<std::size_t>(32768, stream.size() - at))));
        std::vector<byte_buffer> got;
        channel.pump([&](Frame&& f) {
            REQUIRE(f.crc_ok);
            got.push_back(std::move(f.payload));
        });
        REQUIRE(got == sent);
        CHECK(channel.backlog_cost() == 0);
    }
    CHECK(channel.stats().handover_dropped_bytes == 0);
}
