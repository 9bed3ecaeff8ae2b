// The host's control-byte writers at the edges of guest memory, after
// ktstr's signal_guest_value tests. Here a control byte is written only
// when the whole 40-byte ring header is mapped (the common ring code bounds
// control bytes by the header), so "the boundary" is the header's end.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "ktstr/common/shm_ring.hpp"
#include "ktstr/host/shm_control.hpp"

using namespace ktstr;
using namespace ktstr::host;

TEST_CASE("signal_guest_value writes the right slot") {
    // [64 bytes before the ring][ring header]
    const std::uint64_t shm_base = 64;
    std::vector<std::uint8_t> buf(shm_base + shm::header_size, 0);
    GuestMemory mem({{0, {buf.data(), buf.size()}}});
    CHECK(signal_guest_value(mem, shm_base, 0, shm::signal_shutdown_req));
    CHECK(signal_guest_value(mem, shm_base, 1, shm::signal_probes_ready));
    CHECK(buf[shm_base + shm::signal_slot_base] == shm::signal_shutdown_req);
    CHECK(buf[shm_base + shm::signal_slot_base + 1] == shm::signal_probes_ready);
    CHECK(read_guest_signal(mem, shm_base, 0) == std::optional<std::uint8_t>(shm::signal_shutdown_req));
    CHECK(read_guest_signal(mem, shm_base, 1) == std::optional<std::uint8_t>(shm::signal_probes_ready));
    // Nothing else touched.
    buf[shm_base + shm::signal_slot_base] = 0;
    buf[shm_base + shm::signal_slot_base + 1] = 0;
    CHECK(std::all_of(buf.begin(), buf.end(), [](auto b) { return b == 0; }));
}

TEST_CASE("signal_guest_value at a zero SHM base") {
    std::vector<std::uint8_t> buf(shm::header_size, 0);
    GuestMemory mem({{0, {buf.data(), buf.size()}}});
    CHECK(signal_guest_value(mem, 0, 0, 0xab));
    CHECK(signal_guest_value(mem, 0, 1, 0xcd));
    CHECK(buf[shm::signal_slot_base] == 0xab);
    CHECK(buf[shm::signal_slot_base + 1] == 0xcd);
}

TEST_CASE("signal_guest_value with the header ending exactly at the mapping's end succeeds") {
    // The mapping starts at a non-zero guest address so that the address
    // arithmetic is exercised, not just offsets.
    const std::uint64_t gpa = 0x7fff0000;
    std::vector<std::uint8_t> buf(100 + shm::header_size, 0);
    GuestMemory mem({{gpa, {buf.data(), buf.size()}}});
    const std::uint64_t shm_base = gpa + 100;  // header's last byte is the mapping's last byte
    CHECK(signal_guest_value(mem, shm_base, 1, 0xee));
    CHECK(buf[100 + shm::signal_slot_base + 1] == 0xee);
    CHECK(request_dump(mem, shm_base));
    CHECK(buf[100 + shm::dump_req_offset] == shm::dump_req_sysrq_d);
}

TEST_CASE("signal_guest_value past the mapping's end writes nothing") {
    // The declared mapping is smaller than the buffer behind it, so any
    // write that escaped the bounds would show in the sentinel bytes.
    const std::uint64_t total = 64;
    std::vector<std::uint8_t> buf(total + 128, 0xaa);
    GuestMemory mem({{0, {buf.data(), total}}});
    CHECK_FALSE(signal_guest_value(mem, total, 0, 0xff));     // header starts past the end
    CHECK_FALSE(signal_guest_value(mem, total - 1, 0, 0xff)); // header starts on the last byte
    CHECK_FALSE(request_dump(mem, total));
    CHECK_FALSE(request_stall(mem, total));
    CHECK_FALSE(read_guest_signal(mem, total, 0).has_value());
    CHECK(std::all_of(buf.begin(), buf.end(), [](auto b) { return b == 0xaa; }));
}

TEST_CASE("signal_guest_value with the base in range but the header only partly mapped writes nothing") {
    // ktstr's case: base 1, the slot byte itself one past the end. And the
    // case where the slot byte is mapped but the header's end is not: both
    // combine base and offset before checking, never the base alone.
    for (std::uint64_t total : {std::uint64_t{shm::signal_slot_base + 1}, std::uint64_t{shm::header_size}}) {
        std::vector<std::uint8_t> buf(total + 64, 0);
        GuestMemory mem({{0, {buf.data(), total}}});
        CHECK_FALSE(signal_guest_value(mem, 1, 0, 0x77));
        CHECK(std::all_of(buf.begin(), buf.end(), [](auto b) { return b == 0; }));
    }
}

TEST_CASE("signal_guest_value refuses a slot out of range and a base near 2^64") {
    std::vector<std::uint8_t> buf(shm::header_size + 8, 0);
    GuestMemory mem({{0, {buf.data(), buf.size()}}});
    CHECK_FALSE(signal_guest_value(mem, 0, shm::signal_slot_count, 1));
    CHECK_FALSE(read_guest_signal(mem, 0, shm::signal_slot_count).has_value());
    const auto max = std::numeric_limits<std::uint64_t>::max();
    CHECK_FALSE(signal_guest_value(mem, max - 10, 0, 1));  // base + header wraps
    CHECK_FALSE(signal_guest_value(mem, max, 1, 1));
    CHECK(std::all_of(buf.begin(), buf.end(), [](auto b) { return b == 0; }));
}

TEST_CASE("dump and stall requests land in their bytes") {
    std::vector<std::uint8_t> buf(4096, 0);
    GuestMemory mem({{0x10000, {buf.data(), buf.size()}}});
    CHECK(request_dump(mem, 0x10000));
    CHECK(request_stall(mem, 0x10000));
    CHECK(buf[shm::dump_req_offset] == 'D');
    CHECK(buf[shm::stall_req_offset] == 'S');
    CHECK(buf[shm::signal_slot_base] == 0);
}
