// The shared-memory (SHM) ring: a 40-byte header followed by `capacity`
// data bytes holding TLV frames (frame.hpp) back to back, wrapping at the
// end of the data area. The guest is the only producer; the host the only
// consumer. write_ptr and read_ptr are monotonic u64 byte counts; a
// position in the data area is ptr % capacity.
//
// Every function here treats the region's contents as hostile: a zero or
// oversized capacity, used > capacity, pointers near UINT64_MAX and torn
// lengths end a pass cleanly; nothing reads or writes outside the region,
// allocates more than the ring can hold, or loops longer than the data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/frame.hpp"

namespace ktstr {

struct ShmRingHeader {
    std::uint32_t magic = 0;
    std::uint32_t version = 0;
    std::uint32_t capacity = 0;       // data bytes after the header
    std::uint32_t control_bytes = 0;  // four host<->guest control bytes, see below
    std::uint64_t write_ptr = 0;      // bytes ever written by the guest
    std::uint64_t read_ptr = 0;       // bytes ever consumed by the host
    std::uint64_t drops = 0;          // messages the guest could not write (saturating)
};
static_assert(sizeof(ShmRingHeader) == 40);
static_assert(offsetof(ShmRingHeader, magic) == 0);
static_assert(offsetof(ShmRingHeader, version) == 4);
static_assert(offsetof(ShmRingHeader, capacity) == 8);
static_assert(offsetof(ShmRingHeader, control_bytes) == 12);
static_assert(offsetof(ShmRingHeader, write_ptr) == 16);
static_assert(offsetof(ShmRingHeader, read_ptr) == 24);
static_assert(offsetof(ShmRingHeader, drops) == 32);

namespace shm {

inline constexpr std::size_t header_size = sizeof(ShmRingHeader);
inline constexpr std::uint32_t magic = 0x53544D52;  // "STMR"
inline constexpr std::uint32_t version = 1;
// A capacity above this is torn or corrupt, never a real ring.
inline constexpr std::uint32_t max_capacity = 1u << 30;

inline constexpr std::size_t off_magic = 0;
inline constexpr std::size_t off_version = 4;
inline constexpr std::size_t off_capacity = 8;
inline constexpr std::size_t off_write_ptr = 16;
inline constexpr std::size_t off_read_ptr = 24;
inline constexpr std::size_t off_drops = 32;

// Control bytes (offsets from the start of the region).
inline constexpr std::size_t dump_req_offset = 12;   // host writes 'D', guest dumps, clears
inline constexpr std::uint8_t dump_req_sysrq_d = 'D';
inline constexpr std::size_t stall_req_offset = 13;  // host writes 'S', guest stalls, clears
inline constexpr std::uint8_t stall_req_activate = 'S';
inline constexpr std::size_t signal_slot_base = 14;  // two u8 slots: 14 and 15
inline constexpr std::size_t signal_slot_count = 2;
inline constexpr std::uint8_t signal_shutdown_req = 0xDD;  // slot 0, host to guest
inline constexpr std::uint8_t signal_probes_ready = 2;     // slot 1, guest to host

}  // namespace shm

// Header for a region of `region_size` bytes; a region smaller than the
// header gives capacity 0 (every write then drops) instead of underflowing.
// Capacity is clamped to shm::max_capacity.
ShmRingHeader make_ring_header(std::size_t region_size) noexcept;

// A region held in ordinary memory that nobody else writes concurrently:
// post-mortem images, files, tests.
class SpanRegion {
public:
    explicit SpanRegion(mutable_byte_view bytes) noexcept : bytes_(bytes) {}
    std::size_t size() const noexcept { return bytes_.size(); }
    std::uint8_t* data() const noexcept { return bytes_.data(); }

private:
    mutable_byte_view bytes_;
};

// A region shared with another agent running at the same time (guest
// memory seen by the host, /dev/mem seen by the guest). Header words are
// accessed atomically (acquire/release) and data bytes through volatile
// copies, so the compiler never caches, tears or elides them.
class SharedRegion {
public:
    SharedRegion(std::uint8_t* base, std::size_t size) noexcept : base_(base), size_(size) {}
    std::size_t size() const noexcept { return size_; }
    std::uint8_t* data() const noexcept { return base_; }

private:
    std::uint8_t* base_;
    std::size_t size_;
};

// Writes a fresh header for the region's size and zeroes the data area.
// A region smaller than the header is left untouched.
void ring_init(SpanRegion region) noexcept;
void ring_init(SharedRegion region) noexcept;

// Reads the 40-byte header. Returns a zeroed header if the region is
// smaller than that.
ShmRingHeader ring_read_header(SpanRegion region) noexcept;
ShmRingHeader ring_read_header(SharedRegion region) noexcept;

enum class RingWriteStatus {
    written,             // the message is in the ring and published
    dropped,             // ring full (or size overflow): drops counter bumped
    invariant_violated,  // used > capacity: torn header, nothing changed
    unusable,            // region smaller than a header or capacity 0 / beyond the region
};

// Appends one frame. Writes header and payload first and publishes
// write_ptr last (release), so a concurrent reader never sees a partial
// message. Not safe against concurrent writers: callers serialise.
RingWriteStatus ring_write(SpanRegion region, std::uint32_t msg_type, byte_view payload) noexcept;
RingWriteStatus ring_write(SharedRegion region, std::uint32_t msg_type, byte_view payload) noexcept;

enum class RingDrainStatus {
    ok,                   // drained everything complete (maybe nothing)
    region_too_small,     // smaller than the header
    bad_magic,            // not initialised
    bad_capacity,         // 0, above max_capacity, or beyond the region
    used_exceeds_capacity,// write_ptr - read_ptr > capacity: torn header
    torn_length,          // a message announced more than the ring can hold; stopped there
};

const char* to_string(RingDrainStatus s) noexcept;

struct RingDrainResult {
    std::vector<Frame> frames;        // complete messages, oldest first
    std::uint64_t drops = 0;          // the header's counter as read
    std::uint64_t read_ptr = 0;       // position after the last complete message
    std::uint64_t bytes_pending = 0;  // unread bytes left (an incomplete message)
    RingDrainStatus status = RingDrainStatus::ok;
};

enum class DrainMode {
    peek,     // leave read_ptr alone (post-mortem)
    consume,  // store the new read_ptr so the guest can reuse the space
};

// Copies out every complete message between read_ptr and write_ptr. The
// header is read once per pass. A bad header returns no frames and does
// not touch read_ptr, so the next pass re-reads it.
RingDrainResult ring_drain(SpanRegion region, DrainMode mode = DrainMode::peek);
RingDrainResult ring_drain(SharedRegion region, DrainMode mode = DrainMode::consume);

// Control bytes. `slot` < shm::signal_slot_count; out-of-range slots and
// regions smaller than the header are ignored (load returns 0).
void ring_store_control(SharedRegion region, std::size_t offset, std::uint8_t value) noexcept;
std::uint8_t ring_load_control(SharedRegion region, std::size_t offset) noexcept;
void ring_signal(SharedRegion region, std::size_t slot, std::uint8_t value) noexcept;
std::uint8_t ring_read_signal(SharedRegion region, std::size_t slot) noexcept;

}  // namespace ktstr
