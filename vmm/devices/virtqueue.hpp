// A split virtqueue (virtio 1.2 §2.7), device side.
//
// The driver owns three areas of guest memory: the descriptor table, the
// available ring (driver -> device) and the used ring (device -> driver).
// All of it is untrusted. The layout is checked once, when the queue is
// built; every descriptor is checked when its chain is walked: index in
// range, no more hops than the queue has entries (so a loop ends), the
// buffer inside guest RAM (start and length), device-readable buffers
// before device-writable ones, no indirect descriptors (not offered). Any
// violation throws VirtqueueError; the device then stops and reports
// DEVICE_NEEDS_RESET rather than hang or crash.
//
// Notification suppression (§2.7.7, §2.7.10), both ways. Without
// VIRTIO_RING_F_EVENT_IDX the device interrupts unless the driver set
// VIRTQ_AVAIL_F_NO_INTERRUPT, and sets VIRTQ_USED_F_NO_NOTIFY while it
// drains. With it, the driver's used_event (after the available ring) says
// after which used entry it wants the next interrupt, and the device's
// avail_event (after the used ring) after which available entry it wants
// the next notification: the device leaves avail_event behind while it
// drains (the driver's index has passed it, so the driver does not
// notify) and moves it up to its own index only when it is about to wait.
// Both event indices are plain 16-bit values the guest may set to
// anything: they decide whether to notify, never how much is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "ktstr/common/guest_memory.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::devices {

class VirtqueueError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A descriptor as the driver lays it out in guest memory (little-endian).
struct VirtqDesc {
    std::uint64_t addr;
    std::uint32_t len;
    std::uint16_t flags;
    std::uint16_t next;
};
static_assert(sizeof(VirtqDesc) == 16);
static_assert(offsetof(VirtqDesc, addr) == 0 && offsetof(VirtqDesc, len) == 8);
static_assert(offsetof(VirtqDesc, flags) == 12 && offsetof(VirtqDesc, next) == 14);

// An element of the used ring.
struct VirtqUsedElem {
    std::uint32_t id;
    std::uint32_t len;
};
static_assert(sizeof(VirtqUsedElem) == 8);

inline constexpr std::uint16_t virtq_desc_f_next = 1;
inline constexpr std::uint16_t virtq_desc_f_write = 2;
inline constexpr std::uint16_t virtq_desc_f_indirect = 4;
inline constexpr std::uint16_t virtq_avail_f_no_interrupt = 1;
inline constexpr std::uint16_t virtq_used_f_no_notify = 1;
inline constexpr std::uint64_t virtio_ring_f_event_idx = 1ull << 29;
inline constexpr std::uint32_t virtq_size_limit = 32768;  // split ring maximum

// What the driver programmed through the transport for one queue.
struct QueueConfig {
    bool ready = false;
    std::uint16_t size = 0;
    std::uint64_t desc_table = 0;
    std::uint64_t avail_ring = 0;  // "driver area"
    std::uint64_t used_ring = 0;   // "device area"
};

// Why `config` cannot be used as a queue of at most `size_max` entries in
// `memory`, or an empty string when it can: size zero, not a power of two
// or above size_max; a misaligned area; an area not wholly inside RAM (with
// `event_idx`, the rings' event fields included).
std::string queue_layout_error(const GuestMemory& memory, const QueueConfig& config, std::uint16_t size_max,
                               bool event_idx = false);

// Whether an index that moved from `old_idx` to `new_idx` passed `event`,
// i.e. event lies in [old_idx, new_idx) modulo 2^16: the rule both sides of
// an EVENT_IDX ring apply (the spec's vring_need_event).
constexpr bool event_index_passed(std::uint16_t event, std::uint16_t new_idx, std::uint16_t old_idx) noexcept {
    return static_cast<std::uint16_t>(new_idx - event - 1) < static_cast<std::uint16_t>(new_idx - old_idx);
}

// One buffer of a descriptor chain, already translated and bounded.
struct DescriptorBuffer {
    mutable_byte_view bytes;
    bool device_writable = false;
};

// One chain popped from the available ring. Device-readable buffers come
// first, then device-writable ones.
struct DescriptorChain {
    std::uint16_t head = 0;
    std::vector<DescriptorBuffer> buffers;

    // Copies the chain's device-readable bytes from `offset` into `out`;
    // returns the count copied (less than out.size() at the chain's end).
    std::size_t read(std::size_t offset, mutable_byte_view out) const noexcept;
    // Copies `data` into the chain's device-writable buffers, from their
    // start; returns the count written (less when they are full).
    std::size_t write(byte_view data) const noexcept;
    std::uint64_t readable_bytes() const noexcept;
    std::uint64_t writable_bytes() const noexcept;
};

class Virtqueue {
public:
    // Throws VirtqueueError with queue_layout_error's reason. `memory` must
    // outlive the queue. `event_idx`: the driver accepted
    // VIRTIO_RING_F_EVENT_IDX.
    Virtqueue(const GuestMemory& memory, const QueueConfig& config, std::uint16_t size_max, bool event_idx = false);

    // Pops the next available chain into `chain` (its storage is reused).
    // Returns false when the driver has made nothing new available. Throws
    // VirtqueueError when the available index ran ahead by more than the
    // queue size or a descriptor breaks a rule above.
    bool pop(DescriptorChain& chain);

    // Returns chain `head` to the driver with `written` bytes written into
    // its device-writable buffers; the used index is published (release)
    // after the element is in place.
    void push_used(std::uint16_t head, std::uint32_t written) noexcept;

    // Whether the driver wants an interrupt for what was pushed since the
    // last call: without EVENT_IDX, unless it set VIRTQ_AVAIL_F_NO_INTERRUPT;
    // with it, when the used index passed its used_event since the last
    // call. Call it once after each batch of push_used (it remembers the
    // index it answered for) and interrupt when it says so. Ordered after
    // the used index store.
    bool needs_interrupt() noexcept;

    // While the device drains: tells the driver that notifications are not
    // needed (VIRTQ_USED_F_NO_NOTIFY; with EVENT_IDX nothing to write:
    // avail_event stays behind the driver's index).
    void suppress_notifications() noexcept;
    // Before the device waits: asks the driver to notify for the next
    // buffer it makes available (clears NO_NOTIFY; with EVENT_IDX,
    // avail_event = the next entry to read), then, ordered after that
    // store, whether one is available already. When it is, the driver may
    // have looked before the store and skipped its notification: the
    // caller must take it now rather than wait.
    bool rearm_notifications() noexcept;

    std::uint16_t size() const noexcept { return size_; }

private:
    const GuestMemory* memory_;
    std::uint16_t size_;
    mutable_byte_view desc_;
    mutable_byte_view avail_;
    mutable_byte_view used_;
    bool event_idx_;
    std::uint16_t last_avail_ = 0;      // next avail ring entry to read
    std::uint16_t next_used_ = 0;       // next used ring entry to write
    std::uint16_t interrupted_used_ = 0;  // next_used_ when needs_interrupt last answered
};

}  // namespace ktstr::vmm::devices
