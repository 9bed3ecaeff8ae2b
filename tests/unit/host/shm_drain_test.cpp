#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "guest_ram.hpp"
#include "ktstr/common/bytes.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/host/shm_drain.hpp"

using namespace ktstr;
using namespace ktstr::host;
using ktstr::host::test::GuestRam;

namespace {

byte_buffer numbered(std::uint32_t i, std::size_t n) {
    byte_buffer b(n);
    for (std::size_t k = 0; k < n; ++k)
        b[k] = static_cast<std::uint8_t>(i * 31 + k);
    return b;
}

void store_u64(SharedRegion r, std::size_t off, std::uint64_t v) { store_le(r.data() + off, v); }

}  // namespace

TEST_CASE("live drain advances read_ptr and the guest writer reuses the space") {
    GuestRam ram(0x40000000, shm::header_size + 100);
    auto mem = ram.memory();
    auto region = mem.region(ram.gpa(), ram.size());
    REQUIRE(region);
    ShmDrain drain(*region);
    ring_init(*region);

    // 100 data bytes hold four 24-byte frames (16 header + 8 payload).
    std::uint32_t next_write = 0, next_read = 0;
    for (int round = 0; round < 50; ++round) {
        int written = 0;
        while (ring_write(*region, 0x1000 + next_write, numbered(next_write, 8)) == RingWriteStatus::written) {
            ++next_write;
            ++written;
        }
        CHECK(written >= 4);  // the freed space is reused every round
        auto pass = drain.drain();
        CHECK(pass.status == RingDrainStatus::ok);
        for (const auto& e : pass.frames) {
            CHECK(e.crc_ok);
            CHECK(e.msg_type() == 0x1000 + next_read);
            CHECK(e.payload == numbered(next_read, 8));
            ++next_read;
        }
        const auto h = ring_read_header(*region);
        CHECK(h.read_ptr == h.write_ptr);  // everything consumed and stored back
    }
    CHECK(next_read == next_write);
    CHECK(next_write == 200);  // 50 rounds of 96 bytes went round the 100-byte ring many times
    // Each round's last write failed for lack of space and was counted by
    // the guest; the drain reports the counter and its increase.
    CHECK(drain.stats().drops == 50);
    CHECK(drain.stats().entries == next_read);
    CHECK(drain.stats().crc_errors == 0);
}

TEST_CASE("live drain reports new drops per pass") {
    GuestRam ram(0, shm::header_size + 64);
    ShmDrain drain(SharedRegion(ram.data(), ram.size()));
    ring_init(SharedRegion(ram.data(), ram.size()));
    SharedRegion r(ram.data(), ram.size());
    REQUIRE(ring_write(r, 1, numbered(1, 40)) == RingWriteStatus::written);
    CHECK(ring_write(r, 2, numbered(2, 40)) == RingWriteStatus::dropped);
    CHECK(ring_write(r, 3, numbered(3, 40)) == RingWriteStatus::dropped);
    auto p1 = drain.drain();
    CHECK(p1.frames.size() == 1);
    CHECK(p1.drops == 2);
    CHECK(p1.new_drops == 2);
    auto p2 = drain.drain();
    CHECK(p2.frames.empty());
    CHECK(p2.new_drops == 0);
    // A counter the guest moved backwards is not a huge jump.
    store_u64(r, shm::off_drops, 1);
    auto p3 = drain.drain();
    CHECK(p3.new_drops == 0);
    CHECK(p3.drops == 1);
}

TEST_CASE("live drain: a torn header is reported, read_ptr untouched, and the next good pass recovers") {
    GuestRam ram(0, shm::header_size + 256);
    SharedRegion r(ram.data(), ram.size());
    ShmDrain drain(r);
    ring_init(r);
    REQUIRE(ring_write(r, 7, numbered(7, 10)) == RingWriteStatus::written);

    // read_ptr ahead of write_ptr: the modular distance is near 2^64.
    const auto good = ring_read_header(r);
    store_u64(r, shm::off_read_ptr, good.write_ptr + 1);
    auto torn = drain.drain();
    CHECK(torn.status == RingDrainStatus::used_exceeds_capacity);
    CHECK(torn.status_changed);
    CHECK(torn.frames.empty());
    CHECK(ring_read_header(r).read_ptr == good.write_ptr + 1);  // untouched
    auto again = drain.drain();
    CHECK(again.status == RingDrainStatus::used_exceeds_capacity);
    CHECK_FALSE(again.status_changed);

    store_u64(r, shm::off_read_ptr, good.read_ptr);
    auto ok = drain.drain();
    CHECK(ok.status == RingDrainStatus::ok);
    CHECK(ok.status_changed);
    REQUIRE(ok.frames.size() == 1);
    CHECK(ok.frames[0].msg_type() == 7);

    CHECK(drain.stats().bad_header_passes == 2);
    CHECK(drain.stats().status_changes == 2);
    CHECK(drain.stats().last_status == RingDrainStatus::ok);
    CHECK(drain.stats().last_error == RingDrainStatus::used_exceeds_capacity);
}

TEST_CASE("live drain survives garbage headers and lengths without allocating for them") {
    GuestRam ram(0, shm::header_size + 4096);
    SharedRegion r(ram.data(), ram.size());
    ShmDrain drain(r);

    SECTION("never initialised") {
        auto p = drain.drain();
        CHECK(p.status == RingDrainStatus::bad_magic);
        CHECK(p.drops == 0);
    }
    SECTION("capacity beyond the region and 0xffffffff") {
        ring_init(r);
        for (std::uint32_t cap : {std::uint32_t{4097}, std::uint32_t{0xffffffff}, std::uint32_t{0}}) {
            store_le(r.data() + shm::off_capacity, cap);
            CHECK(drain.drain().status == RingDrainStatus::bad_capacity);
        }
    }
    SECTION("a message announcing 4 GiB") {
        ring_init(r);
        REQUIRE(ring_write(r, 1, numbered(1, 8)) == RingWriteStatus::written);
        REQUIRE(ring_write(r, 2, numbered(2, 8)) == RingWriteStatus::written);
        // Second frame's length field: data offset 24 + 4.
        store_le<std::uint32_t>(r.data() + shm::header_size + 24 + 4, 0xffffffff);
        auto p = drain.drain();
        CHECK(p.status == RingDrainStatus::torn_length);
        REQUIRE(p.frames.size() == 1);  // the good frame before it still arrives
        CHECK(p.frames[0].msg_type() == 1);
        CHECK(drain.stats().torn_length_passes == 1);
    }
    SECTION("a corrupted payload is delivered with crc_ok false and counted") {
        ring_init(r);
        REQUIRE(ring_write(r, 1, numbered(1, 8)) == RingWriteStatus::written);
        r.data()[shm::header_size + 16] ^= 0xff;
        auto p = drain.drain();
        REQUIRE(p.frames.size() == 1);
        CHECK_FALSE(p.frames[0].crc_ok);
        CHECK(drain.stats().crc_errors == 1);
    }
    SECTION("write_ptr near 2^64") {
        ring_init(r);
        const auto near = std::numeric_limits<std::uint64_t>::max() - 5;
        store_u64(r, shm::off_write_ptr, near);
        store_u64(r, shm::off_read_ptr, near);
        REQUIRE(ring_write(r, 9, numbered(9, 30)) == RingWriteStatus::written);  // straddles the wrap
        auto p = drain.drain();
        CHECK(p.status == RingDrainStatus::ok);
        REQUIRE(p.frames.size() == 1);
        CHECK(p.frames[0].payload == numbered(9, 30));
        CHECK(ring_read_header(r).read_ptr == near + 16 + 30);
    }
}

TEST_CASE("live drain against a guest writer on another thread delivers every frame in order") {
    GuestRam ram(0x1000, shm::header_size + 1024);
    SharedRegion r(ram.data(), ram.size());
    ShmDrain drain(r);
    ring_init(r);

    constexpr std::uint32_t total = 5000;
    std::atomic<bool> stop{false};
    std::thread guest([&] {
        for (std::uint32_t i = 0; i < total && !stop;) {
            // The guest drops when full; this writer retries instead, so
            // every frame must arrive.
            if (ring_write(r, i, numbered(i, 1 + i % 97)) == RingWriteStatus::written)
                ++i;
            else
                std::this_thread::yield();
        }
    });
    std::uint32_t next = 0;
    bool in_order = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (next < total && std::chrono::steady_clock::now() < deadline) {
        for (const auto& e : drain.drain().frames) {
            in_order = in_order && e.crc_ok && e.msg_type() == next && e.payload == numbered(next, 1 + next % 97);
            ++next;
        }
    }
    stop = true;
    guest.join();
    CHECK(in_order);
    CHECK(next == total);
}
