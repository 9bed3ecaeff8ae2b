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
// VIRTIO_RING_F_EVENT_IDX is not implemented (so not offered): the device
// notifies unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT.
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
// or above size_max; a misaligned area; an area not wholly inside RAM.
std::string queue_layout_error(const GuestMemory& memory, const QueueConfig& config, std::uint16_t size_max);

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
    // outlive the queue.
    Virtqueue(const GuestMemory& memory, const QueueConfig& config, std::uint16_t size_max);

    // Pops the next available chain into `chain` (its storage is reused).
    // Returns false when the driver has made nothing new available. Throws
    // VirtqueueError when the available index ran ahead by more than the
    // queue size or a descriptor breaks a rule above.
    bool pop(DescriptorChain& chain);

    // Returns chain `head` to the driver with `written` bytes written into
    // its device-writable buffers; the used index is published (release)
    // after the element is in place.
    void push_used(std::uint16_t head, std::uint32_t written) noexcept;

    // Whether the driver wants an interrupt for what was pushed (it has not
    // set VIRTQ_AVAIL_F_NO_INTERRUPT). Ordered after the used index store.
    bool needs_interrupt() const noexcept;

    std::uint16_t size() const noexcept { return size_; }

private:
    const GuestMemory* memory_;
    std::uint16_t size_;
    mutable_byte_view desc_;
    mutable_byte_view avail_;
    mutable_byte_view used_;
    std::uint16_t last_avail_ = 0;  // next avail ring entry to read
    std::uint16_t next_used_ = 0;   // next used ring entry to write
};

}  // namespace ktstr::vmm::devices
