#include "devices/virtqueue.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>

#include <fmt/format.h>

namespace ktstr::vmm::devices {

namespace {

// The ring indices are shared with vCPUs running the driver: read and
// written as atomics, in place. Guest memory is little-endian, as is every
// host this VMM runs on.
static_assert(std::endian::native == std::endian::little);

// Byte sizes of the areas the device touches: the event-index fields
// (used_event after the available ring, avail_event after the used ring)
// only when EVENT_IDX was negotiated, so a driver without it may end a
// ring at the last byte of RAM.
constexpr std::uint64_t desc_table_bytes(std::uint16_t n) { return 16ull * n; }
constexpr std::uint64_t avail_ring_bytes(std::uint16_t n, bool event_idx) { return 4 + 2ull * n + (event_idx ? 2 : 0); }
constexpr std::uint64_t used_ring_bytes(std::uint16_t n, bool event_idx) { return 4 + 8ull * n + (event_idx ? 2 : 0); }

std::atomic_ref<std::uint16_t> ring_index(mutable_byte_view area, std::size_t offset) noexcept {
    return std::atomic_ref<std::uint16_t>(*reinterpret_cast<std::uint16_t*>(area.data() + offset));
}

bool aligned(const std::uint8_t* p, std::size_t alignment) noexcept {
    return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

}  // namespace

std::string queue_layout_error(const GuestMemory& memory, const QueueConfig& c, std::uint16_t size_max,
                               bool event_idx) {
    if (c.size == 0 || !std::has_single_bit(c.size))
        return fmt::format("queue size {} is not a power of two", c.size);
    if (c.size > size_max)
        return fmt::format("queue size {} is above the maximum {}", c.size, size_max);
    if (c.desc_table % 16 != 0 || c.avail_ring % 2 != 0 || c.used_ring % 4 != 0)
        return fmt::format("misaligned queue areas: descriptors {:#x}, available {:#x}, used {:#x}", c.desc_table,
                           c.avail_ring, c.used_ring);
    struct Area {
        const char* name;
        std::uint64_t addr;
        std::uint64_t bytes;
        std::size_t alignment;
    };
    for (const Area& a : {Area{"descriptor table", c.desc_table, desc_table_bytes(c.size), 16},
                          Area{"available ring", c.avail_ring, avail_ring_bytes(c.size, event_idx), 2},
                          Area{"used ring", c.used_ring, used_ring_bytes(c.size, event_idx), 4}}) {
        auto host = memory.translate(a.addr, a.bytes);
        if (!host)
            return fmt::format("{} [{:#x}, +{:#x}) is outside guest RAM", a.name, a.addr, a.bytes);
        // Guest alignment implies host alignment only when RAM is mapped at
        // aligned host addresses, as mmap does; the atomics need it.
        if (!aligned(host->data(), a.alignment))
            return fmt::format("{} at {:#x} maps to a misaligned host address", a.name, a.addr);
    }
    return {};
}

Virtqueue::Virtqueue(const GuestMemory& memory, const QueueConfig& config, std::uint16_t size_max, bool event_idx)
    : memory_(&memory), size_(config.size), event_idx_(event_idx) {
    if (auto error = queue_layout_error(memory, config, size_max, event_idx); !error.empty())
        throw VirtqueueError(error);
    desc_ = *memory.translate(config.desc_table, desc_table_bytes(size_));
    avail_ = *memory.translate(config.avail_ring, avail_ring_bytes(size_, event_idx));
    used_ = *memory.translate(config.used_ring, used_ring_bytes(size_, event_idx));
}

bool Virtqueue::pop(DescriptorChain& chain) {
    // Acquire: the ring entries (and the descriptors and buffers they name)
    // written before the driver bumped the index are visible after it.
    const std::uint16_t avail_idx = ring_index(avail_, 2).load(std::memory_order_acquire);
    const std::uint16_t pending = static_cast<std::uint16_t>(avail_idx - last_avail_);
    if (pending == 0)
        return false;
    if (pending > size_)
        throw VirtqueueError(fmt::format("available index {} is {} entries ahead of the device, more than the "
                                         "queue size {}",
                                         avail_idx, pending, size_));
    const std::size_t slot = 4 + 2u * (last_avail_ % size_);
    const std::uint16_t head = load_le<std::uint16_t>(avail_.data() + slot);
    ++last_avail_;

    chain.head = head;
    chain.buffers.clear();
    bool seen_writable = false;
    std::uint16_t index = head;
    // A chain has at most size_ descriptors: any more means a loop.
    for (std::uint32_t hops = 0;; ++hops) {
        if (hops == size_)
            throw VirtqueueError(
                fmt::format("descriptor chain from head {} is longer than the queue size {} (a loop)", head, size_));
        if (index >= size_)
            throw VirtqueueError(fmt::format("descriptor index {} is out of range for queue size {}", index, size_));
        const std::uint8_t* d = desc_.data() + 16u * index;
        const auto addr = load_le<std::uint64_t>(d);
        const auto len = load_le<std::uint32_t>(d + 8);
        const auto flags = load_le<std::uint16_t>(d + 12);
        const auto next = load_le<std::uint16_t>(d + 14);
        if (flags & virtq_desc_f_indirect)
            throw VirtqueueError(fmt::format("descriptor {} is indirect, a feature not offered", index));
        const bool writable = (flags & virtq_desc_f_write) != 0;
        if (!writable && seen_writable)
            throw VirtqueueError(fmt::format("descriptor {} is device-readable after a device-writable one", index));
        seen_writable = seen_writable || writable;
        mutable_byte_view bytes;
        if (len != 0) {
            auto host = memory_->translate(addr, len);
            if (!host)
                throw VirtqueueError(
                    fmt::format("descriptor {} buffer [{:#x}, +{:#x}) is outside guest RAM", index, addr, len));
            bytes = *host;
        }
        chain.buffers.push_back({bytes, writable});
        if (!(flags & virtq_desc_f_next))
            return true;
        index = next;
    }
}

void Virtqueue::push_used(std::uint16_t head, std::uint32_t written) noexcept {
    const std::size_t slot = 4 + 8u * (next_used_ % size_);
    store_le<std::uint32_t>(used_.data() + slot, head);
    store_le<std::uint32_t>(used_.data() + slot + 4, written);
    ++next_used_;
    // Release: the element is visible before the index that hands it over.
    ring_index(used_, 2).store(next_used_, std::memory_order_release);
}

bool Virtqueue::needs_interrupt() noexcept {
    // Full barrier: the used index store must be visible before the flag
    // (or used_event) is read, or the driver could re-enable interrupts,
    // see no new used entry, and sleep while the device skips the
    // interrupt.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!event_idx_) {
        const std::uint16_t flags = ring_index(avail_, 0).load(std::memory_order_relaxed);
        return (flags & virtq_avail_f_no_interrupt) == 0;
    }
    // The flags' NO_INTERRUPT bit is ignored with EVENT_IDX (§2.7.10).
    const std::uint16_t used_event = ring_index(avail_, 4 + 2u * size_).load(std::memory_order_relaxed);
    const std::uint16_t old = interrupted_used_;
    interrupted_used_ = next_used_;
    return event_index_passed(used_event, next_used_, old);
}

void Virtqueue::suppress_notifications() noexcept {
    if (!event_idx_)
        ring_index(used_, 0).store(virtq_used_f_no_notify, std::memory_order_relaxed);
}

bool Virtqueue::rearm_notifications() noexcept {
    if (event_idx_)
        ring_index(used_, 4 + 8u * size_).store(last_avail_, std::memory_order_relaxed);
    else
        ring_index(used_, 0).store(0, std::memory_order_relaxed);
    // Full barrier, the driver's mirror image: it publishes its index, then
    // reads ours. One of the two sides sees the other's store.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return ring_index(avail_, 2).load(std::memory_order_acquire) != last_avail_;
}

std::size_t DescriptorChain::read(std::size_t offset, mutable_byte_view out) const noexcept {
    std::size_t copied = 0;
    for (const auto& b : buffers) {
        if (b.device_writable || copied == out.size())
            break;
        if (offset >= b.bytes.size()) {
            offset -= b.bytes.size();
            continue;
        }
        const std::size_t n = std::min(b.bytes.size() - offset, out.size() - copied);
        std::copy_n(b.bytes.data() + offset, n, out.data() + copied);
        copied += n;
        offset = 0;
    }
    return copied;
}

std::size_t DescriptorChain::write(byte_view data) const noexcept {
    std::size_t written = 0;
    for (const auto& b : buffers) {
        if (!b.device_writable)
            continue;
        if (written == data.size())
            break;
        const std::size_t n = std::min(b.bytes.size(), data.size() - written);
        std::copy_n(data.data() + written, n, b.bytes.data());
        written += n;
    }
    return written;
}

std::uint64_t DescriptorChain::readable_bytes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& b : buffers)
        n += b.device_writable ? 0 : b.bytes.size();
    return n;
}

std::uint64_t DescriptorChain::writable_bytes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& b : buffers)
        n += b.device_writable ? b.bytes.size() : 0;
    return n;
}

}  // namespace ktstr::vmm::devices
