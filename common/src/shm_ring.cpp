#include "ktstr/common/shm_ring.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <utility>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/shared_access.hpp"

namespace ktstr {
namespace {

// The ring algorithms are written once over an accessor; the two region
// kinds differ only in how a byte or word is touched.

struct PlainAccess {
    std::uint8_t* base;
    std::size_t size;

    std::uint32_t load32(std::size_t off) const noexcept { return load_le<std::uint32_t>(base + off); }
    std::uint64_t load64(std::size_t off) const noexcept { return load_le<std::uint64_t>(base + off); }
    void store64(std::size_t off, std::uint64_t v) const noexcept { store_le(base + off, v); }
    void store_bytes(std::size_t off, const std::uint8_t* src, std::size_t n) const noexcept {
        std::memcpy(base + off, src, n);
    }
    void load_bytes(std::size_t off, std::uint8_t* dst, std::size_t n) const noexcept {
        std::memcpy(dst, base + off, n);
    }
};

// Shared memory: header words and data bytes as shared_access.hpp says
// (acquire/release words, so the payload written before write_ptr is
// visible once write_ptr is; volatile byte copies).
struct SharedAccess {
    std::uint8_t* base;
    std::size_t size;

    std::uint32_t load32(std::size_t off) const noexcept { return shared::load_acquire<std::uint32_t>(base + off); }
    std::uint64_t load64(std::size_t off) const noexcept { return shared::load_acquire<std::uint64_t>(base + off); }
    void store64(std::size_t off, std::uint64_t v) const noexcept { shared::store_release(base + off, v); }
    void store_bytes(std::size_t off, const std::uint8_t* src, std::size_t n) const noexcept {
        shared::copy_to(base + off, byte_view(src, n));
    }
    void load_bytes(std::size_t off, std::uint8_t* dst, std::size_t n) const noexcept {
        shared::copy_from(base + off, mutable_byte_view(dst, n));
    }
};

PlainAccess access(SpanRegion r) noexcept { return {r.data(), r.size()}; }
SharedAccess access(SharedRegion r) noexcept { return {r.data(), r.size()}; }

// Data-area offset of monotonic position `pos`.
std::size_t ring_offset(std::uint64_t pos, std::size_t capacity) noexcept {
    return static_cast<std::size_t>(pos % capacity);
}

// Copies `n` bytes between the data area and `buf`, starting at data-area
// offset `at` and wrapping at `capacity`. Callers guarantee
// header_size + capacity <= region size, at < capacity and n <= capacity.
//
// A frame's bytes are laid out from the offset of its start, not from the
// offsets of later monotonic positions: the two differ only when a frame
// straddles write_ptr's wrap at 2^64 (2^64 is not a multiple of the
// capacity), and there the frame must still read back as it was written.
template <typename A>
void ring_copy_out(const A& a, std::size_t capacity, std::size_t at, std::uint8_t* out, std::size_t n) noexcept {
    std::size_t first = std::min(n, capacity - at);
    a.load_bytes(shm::header_size + at, out, first);
    if (first < n)
        a.load_bytes(shm::header_size, out + first, n - first);
}

template <typename A>
void ring_copy_in(const A& a, std::size_t capacity, std::size_t at, const std::uint8_t* in, std::size_t n) noexcept {
    std::size_t first = std::min(n, capacity - at);
    a.store_bytes(shm::header_size + at, in, first);
    if (first < n)
        a.store_bytes(shm::header_size, in + first, n - first);
}

template <typename A>
void bump_drops(const A& a) noexcept {
    auto d = a.load64(shm::off_drops);
    if (d != std::numeric_limits<std::uint64_t>::max())
        a.store64(shm::off_drops, d + 1);
}

template <typename A>
RingWriteStatus write_impl(const A& a, std::uint32_t msg_type, byte_view payload) noexcept {
    if (a.size < shm::header_size)
        return RingWriteStatus::unusable;
    const std::size_t capacity = a.load32(shm::off_capacity);
    if (capacity == 0 || capacity > a.size - shm::header_size)
        return RingWriteStatus::unusable;
    const auto write_ptr = a.load64(shm::off_write_ptr);
    const auto read_ptr = a.load64(shm::off_read_ptr);

    const std::uint64_t used = write_ptr - read_ptr;  // modular distance
    if (used > capacity)
        return RingWriteStatus::invariant_violated;
    // Compared in u64 so that a payload near SIZE_MAX cannot overflow.
    const std::uint64_t total = std::uint64_t{frame_header_size} + payload.size();
    if (payload.size() > std::numeric_limits<std::uint32_t>::max() || total > capacity - used) {
        bump_drops(a);
        return RingWriteStatus::dropped;
    }

    std::array<std::uint8_t, frame_header_size> hdr{};
    encode_frame_header(make_frame_header(msg_type, payload), hdr);
    const auto at = ring_offset(write_ptr, capacity);
    ring_copy_in(a, capacity, at, hdr.data(), hdr.size());
    if (!payload.empty())
        ring_copy_in(a, capacity, (at + frame_header_size) % capacity, payload.data(), payload.size());
    // Publish last: the reader trusts nothing beyond write_ptr.
    a.store64(shm::off_write_ptr, write_ptr + total);
    return RingWriteStatus::written;
}

template <typename A>
RingDrainResult drain_impl(const A& a, DrainMode mode) {
    RingDrainResult r;
    if (a.size < shm::header_size) {
        r.status = RingDrainStatus::region_too_small;
        return r;
    }
    if (a.load32(shm::off_magic) != shm::magic) {
        r.status = RingDrainStatus::bad_magic;
        return r;
    }
    const std::size_t capacity = a.load32(shm::off_capacity);
    const auto write_ptr = a.load64(shm::off_write_ptr);
    const auto read_ptr = a.load64(shm::off_read_ptr);
    r.drops = a.load64(shm::off_drops);
    r.read_ptr = read_ptr;
    // Zero would divide by zero; beyond max_capacity or the region would
    // read past the mapping.
    if (capacity == 0 || capacity > shm::max_capacity || capacity > a.size - shm::header_size) {
        r.status = RingDrainStatus::bad_capacity;
        return r;
    }
    const std::uint64_t unread = write_ptr - read_ptr;
    if (unread > capacity) {
        // Torn: read_ptr ahead of write_ptr wraps to a near-2^64 distance.
        r.status = RingDrainStatus::used_exceeds_capacity;
        return r;
    }
    // No complete message can be longer than the data area; a larger
    // length is torn and must not size an allocation.
    const std::uint64_t max_payload = capacity > frame_header_size ? capacity - frame_header_size : 0;

    std::uint64_t pos = read_ptr;
    while (write_ptr - pos >= frame_header_size) {
        std::array<std::uint8_t, frame_header_size> hb{};
        const auto at = ring_offset(pos, capacity);
        ring_copy_out(a, capacity, at, hb.data(), hb.size());
        const auto h = decode_frame_header(hb);
        if (h.length > max_payload) {
            r.status = RingDrainStatus::torn_length;
            break;
        }
        const std::uint64_t total = frame_header_size + std::uint64_t{h.length};
        if (write_ptr - pos < total)
            break;  // incomplete: the guest is still writing it
        byte_buffer payload(h.length);
        if (h.length != 0)
            ring_copy_out(a, capacity, (at + frame_header_size) % capacity, payload.data(), h.length);
        r.frames.push_back(received_frame(h, std::move(payload)));
        pos += total;
    }
    r.read_ptr = pos;
    r.bytes_pending = write_ptr - pos;
    if (mode == DrainMode::consume && pos != read_ptr)
        a.store64(shm::off_read_ptr, pos);
    return r;
}

template <typename A>
void init_impl(const A& a) noexcept {
    if (a.size < shm::header_size)
        return;
    const auto h = make_ring_header(a.size);
    std::array<std::uint8_t, shm::header_size> b{};
    store_le(b.data() + shm::off_magic, h.magic);
    store_le(b.data() + shm::off_version, h.version);
    store_le(b.data() + shm::off_capacity, h.capacity);
    a.store_bytes(0, b.data(), b.size());
    static constexpr std::array<std::uint8_t, 4096> zeros{};
    for (std::size_t off = shm::header_size; off < a.size; off += zeros.size())
        a.store_bytes(off, zeros.data(), std::min(zeros.size(), a.size - off));
}

template <typename A>
ShmRingHeader read_header_impl(const A& a) noexcept {
    ShmRingHeader h;
    if (a.size < shm::header_size)
        return h;
    h.magic = a.load32(shm::off_magic);
    h.version = a.load32(shm::off_version);
    h.capacity = a.load32(shm::off_capacity);
    h.control_bytes = a.load32(12);
    h.write_ptr = a.load64(shm::off_write_ptr);
    h.read_ptr = a.load64(shm::off_read_ptr);
    h.drops = a.load64(shm::off_drops);
    return h;
}

bool control_offset_ok(SharedRegion r, std::size_t offset) noexcept {
    return r.size() >= shm::header_size && offset >= shm::dump_req_offset &&
           offset < shm::signal_slot_base + shm::signal_slot_count;
}

}  // namespace

ShmRingHeader make_ring_header(std::size_t region_size) noexcept {
    ShmRingHeader h;
    h.magic = shm::magic;
    h.version = shm::version;
    std::size_t cap = region_size > shm::header_size ? region_size - shm::header_size : 0;
    h.capacity = static_cast<std::uint32_t>(std::min<std::size_t>(cap, shm::max_capacity));
    return h;
}

void ring_init(SpanRegion r) noexcept { init_impl(access(r)); }
void ring_init(SharedRegion r) noexcept { init_impl(access(r)); }
ShmRingHeader ring_read_header(SpanRegion r) noexcept { return read_header_impl(access(r)); }
ShmRingHeader ring_read_header(SharedRegion r) noexcept { return read_header_impl(access(r)); }

RingWriteStatus ring_write(SpanRegion r, std::uint32_t t, byte_view p) noexcept { return write_impl(access(r), t, p); }
RingWriteStatus ring_write(SharedRegion r, std::uint32_t t, byte_view p) noexcept { return write_impl(access(r), t, p); }

RingDrainResult ring_drain(SpanRegion r, DrainMode m) { return drain_impl(access(r), m); }
RingDrainResult ring_drain(SharedRegion r, DrainMode m) { return drain_impl(access(r), m); }

const char* to_string(RingDrainStatus s) noexcept {
    switch (s) {
    case RingDrainStatus::ok: return "ok";
    case RingDrainStatus::region_too_small: return "region smaller than the ring header";
    case RingDrainStatus::bad_magic: return "bad magic (ring not initialised)";
    case RingDrainStatus::bad_capacity: return "implausible capacity";
    case RingDrainStatus::used_exceeds_capacity: return "write_ptr - read_ptr exceeds capacity (torn header)";
    case RingDrainStatus::torn_length: return "message length exceeds ring capacity (torn message)";
    }
    return "unknown";
}

void ring_store_control(SharedRegion r, std::size_t offset, std::uint8_t value) noexcept {
    if (!control_offset_ok(r, offset))
        return;
    shared::store_release(r.data() + offset, value);
}

std::uint8_t ring_load_control(SharedRegion r, std::size_t offset) noexcept {
    if (!control_offset_ok(r, offset))
        return 0;
    return shared::load_acquire<std::uint8_t>(r.data() + offset);
}

void ring_signal(SharedRegion r, std::size_t slot, std::uint8_t value) noexcept {
    if (slot < shm::signal_slot_count)
        ring_store_control(r, shm::signal_slot_base + slot, value);
}

std::uint8_t ring_read_signal(SharedRegion r, std::size_t slot) noexcept {
    return slot < shm::signal_slot_count ? ring_load_control(r, shm::signal_slot_base + slot) : 0;
}

}  // namespace ktstr
