// A virtio driver for device tests, doing what Linux's virtio_mmio.c and
// virtio_ring.c do, through the transport's registers only: reset,
// ACKNOWLEDGE, DRIVER, feature negotiation, FEATURES_OK, queue setup,
// DRIVER_OK; then buffers posted on split rings in fake guest memory,
// notifications, and used buffers collected.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "devices/virtio_device.hpp"
#include "devices/virtio_mmio.hpp"
#include "devices/virtqueue.hpp"
#include "fake_guest_memory.hpp"

namespace ktstr::vmm::devices::test {

// The driver's side of one split ring.
class DriverQueue {
public:
    struct Buffer {
        std::uint64_t addr;
        std::uint32_t len;
        bool writable;
    };

    DriverQueue(FakeGuestMemory& mem, std::uint16_t index, std::uint16_t size)
        : mem_(mem), index_(index), size_(size) {
        desc = mem.alloc(16u * size, 16);
        avail = mem.alloc(6 + 2u * size, 2);
        used = mem.alloc(6 + 8u * size, 4);
        for (std::uint16_t i = 0; i < size; ++i)
            free_.push_back(static_cast<std::uint16_t>(size - 1 - i));
    }

    std::uint16_t index() const noexcept { return index_; }
    std::uint16_t size() const noexcept { return size_; }

    // Links `buffers` into a chain from free descriptors and makes it
    // available. Returns the head.
    std::uint16_t add(const std::vector<Buffer>& buffers) {
        if (buffers.empty() || buffers.size() > free_.size())
            throw std::logic_error("no room in the test queue");
        std::vector<std::uint16_t> ids;
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            ids.push_back(free_.back());
            free_.pop_back();
        }
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            const bool last = i + 1 == buffers.size();
            std::uint16_t flags = buffers[i].writable ? virtq_desc_f_write : 0;
            flags = static_cast<std::uint16_t>(flags | (last ? 0 : virtq_desc_f_next));
            set_desc(ids[i], buffers[i].addr, buffers[i].len, flags, last ? 0 : ids[i + 1]);
        }
        chains_[ids[0]] = ids;
        publish(ids[0]);
        return ids[0];
    }

    // Raw access for tests that break the rules.
    void set_desc(std::uint16_t i, std::uint64_t addr, std::uint32_t len, std::uint16_t flags, std::uint16_t next) {
        const std::uint64_t d = desc + 16u * i;
        mem_.put<std::uint64_t>(d, addr);
        mem_.put<std::uint32_t>(d + 8, len);
        mem_.put<std::uint16_t>(d + 12, flags);
        mem_.put<std::uint16_t>(d + 14, next);
    }
    void publish(std::uint16_t head) {
        mem_.put<std::uint16_t>(avail + 4 + 2u * (avail_idx_ % size_), head);
        ++avail_idx_;
        mem_.put<std::uint16_t>(avail + 2, avail_idx_);
    }
    void set_avail_idx(std::uint16_t idx) {
        avail_idx_ = idx;
        mem_.put<std::uint16_t>(avail + 2, idx);
    }
    void set_no_interrupt(bool on) { mem_.put<std::uint16_t>(avail, on ? virtq_avail_f_no_interrupt : 0); }

    // The event-index fields (VIRTIO_RING_F_EVENT_IDX): the driver's
    // used_event after the available ring, the device's avail_event after
    // the used ring; and the device's used flags.
    void set_used_event(std::uint16_t v) { mem_.put<std::uint16_t>(avail + 4 + 2u * size_, v); }
    std::uint16_t avail_event() { return mem_.get<std::uint16_t>(used + 4 + 8u * size_); }
    std::uint16_t used_flags() { return mem_.get<std::uint16_t>(used); }
    std::uint16_t avail_idx() const noexcept { return avail_idx_; }
    // What a driver decides after publishing entries [old_idx, avail_idx()):
    // with EVENT_IDX, whether avail_event lies in that range; without it,
    // whether the device did not set VIRTQ_USED_F_NO_NOTIFY.
    bool should_notify(std::uint16_t old_idx, bool event_idx) {
        return event_idx ? event_index_passed(avail_event(), avail_idx_, old_idx)
                         : (used_flags() & virtq_used_f_no_notify) == 0;
    }

    // Used elements the device returned since the last call; their
    // descriptors go back to the free list.
    std::vector<VirtqUsedElem> take_used() {
        std::vector<VirtqUsedElem> out;
        const auto used_idx = mem_.get<std::uint16_t>(used + 2);
        for (; last_used_ != used_idx; ++last_used_) {
            const std::uint64_t e = used + 4 + 8u * (last_used_ % size_);
            VirtqUsedElem elem{mem_.get<std::uint32_t>(e), mem_.get<std::uint32_t>(e + 4)};
            out.push_back(elem);
            if (auto it = chains_.find(static_cast<std::uint16_t>(elem.id)); it != chains_.end()) {
                free_.insert(free_.end(), it->second.begin(), it->second.end());
                chains_.erase(it);
            }
        }
        return out;
    }

    std::uint64_t desc = 0, avail = 0, used = 0;

private:
    FakeGuestMemory& mem_;
    std::uint16_t index_;
    std::uint16_t size_;
    std::uint16_t avail_idx_ = 0;
    std::uint16_t last_used_ = 0;
    std::vector<std::uint16_t> free_;
    std::map<std::uint16_t, std::vector<std::uint16_t>> chains_;
};

class MockVirtioDriver {
public:
    MockVirtioDriver(VirtioMmio& mmio, FakeGuestMemory& mem) : mmio_(mmio), mem_(mem) {}

    std::uint32_t read32(std::uint64_t offset) {
        std::uint8_t b[4];
        mmio_.read(offset, b);
        return load_le<std::uint32_t>(b);
    }
    void write32(std::uint64_t offset, std::uint32_t v) {
        std::uint8_t b[4];
        store_le<std::uint32_t>(b, v);
        mmio_.write(offset, b);
    }
    std::uint32_t config32(std::uint64_t offset) { return read32(virtio_mmio_config + offset); }

    std::uint64_t device_features() {
        write32(virtio_mmio_device_features_sel, 1);
        std::uint64_t f = std::uint64_t{read32(virtio_mmio_device_features)} << 32;
        write32(virtio_mmio_device_features_sel, 0);
        return f | read32(virtio_mmio_device_features);
    }
    void write_driver_features(std::uint64_t f) {
        write32(virtio_mmio_driver_features_sel, 1);
        write32(virtio_mmio_driver_features, static_cast<std::uint32_t>(f >> 32));
        write32(virtio_mmio_driver_features_sel, 0);
        write32(virtio_mmio_driver_features, static_cast<std::uint32_t>(f));
    }
    void add_status(std::uint32_t bits) { write32(virtio_mmio_status, read32(virtio_mmio_status) | bits); }
    std::uint32_t status() { return read32(virtio_mmio_status); }

    // Reset .. FEATURES_OK, accepting `wanted` & offered. Returns whether
    // the device kept FEATURES_OK.
    bool negotiate(std::uint64_t wanted) {
        write32(virtio_mmio_status, 0);
        add_status(virtio_status_acknowledge);
        add_status(virtio_status_driver);
        write_driver_features(device_features() & wanted);
        add_status(virtio_status_features_ok);
        return (status() & virtio_status_features_ok) != 0;
    }

    // As Linux's vm_setup_vq: select, check unused, size, areas, ready.
    // Returns whether QueueReady reads back 1.
    DriverQueue& setup_queue(std::uint16_t index, std::uint16_t size) {
        write32(virtio_mmio_queue_sel, index);
        if (read32(virtio_mmio_queue_ready) != 0)
            throw std::logic_error("queue already in use");
        auto q = std::make_unique<DriverQueue>(mem_, index, size);
        write32(virtio_mmio_queue_num, size);
        program(q->desc, q->avail, q->used);
        write32(virtio_mmio_queue_ready, 1);
        auto& ref = *q;
        queues_[index] = std::move(q);
        return ref;
    }
    void program(std::uint64_t desc, std::uint64_t avail, std::uint64_t used) {
        write32(virtio_mmio_queue_desc_low, static_cast<std::uint32_t>(desc));
        write32(virtio_mmio_queue_desc_high, static_cast<std::uint32_t>(desc >> 32));
        write32(virtio_mmio_queue_driver_low, static_cast<std::uint32_t>(avail));
        write32(virtio_mmio_queue_driver_high, static_cast<std::uint32_t>(avail >> 32));
        write32(virtio_mmio_queue_device_low, static_cast<std::uint32_t>(used));
        write32(virtio_mmio_queue_device_high, static_cast<std::uint32_t>(used >> 32));
    }
    bool queue_ready(std::uint16_t index) {
        write32(virtio_mmio_queue_sel, index);
        return read32(virtio_mmio_queue_ready) == 1;
    }

    void driver_ok() { add_status(virtio_status_driver_ok); }
    void kick(const DriverQueue& q) { write32(virtio_mmio_queue_notify, q.index()); }

    // As vm_interrupt: read InterruptStatus, acknowledge it.
    std::uint32_t ack_interrupt() {
        const std::uint32_t isr = read32(virtio_mmio_interrupt_status);
        write32(virtio_mmio_interrupt_ack, isr);
        return isr;
    }

    DriverQueue& queue(std::uint16_t index) { return *queues_.at(index); }
    FakeGuestMemory& memory() { return mem_; }

private:
    VirtioMmio& mmio_;
    FakeGuestMemory& mem_;
    std::map<std::uint16_t, std::unique_ptr<DriverQueue>> queues_;
};

}  // namespace ktstr::vmm::devices::test
