// A test double of the guest's side of the bulk port (virtio-console port
// 1, transmit queue 5) for the in-process bulk benchmark: what Linux's
// virtio_mmio.c, virtio_ring.c and virtio_console.c do for writes to
// /dev/vport0p1, reduced to that one queue, on the real transport
// registers and split-ring layout in a plain memory region standing in
// for guest RAM.
//
// One buffer per write (one descriptor), made available as the driver's
// writes come; a notification when the device asks for one (EVENT_IDX:
// avail_event; else: no VIRTQ_USED_F_NO_NOTIFY), rung through `doorbell`,
// which stands for the QueueNotify write (the VMM catches it with an
// ioeventfd and its device thread calls the transport's notify).
// Used buffers are reclaimed by polling on the write path, as
// virtio_console does; interrupts are wanted only when the ring is full and
// the writer waits (used_event / VIRTQ_AVAIL_F_NO_INTERRUPT).
//
// Threads: write() and wait_idle() on one thread (the guest's writer);
// on_interrupt() from the device's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "devices/virtio_mmio.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::bench {

class MockBulkDriver {
public:
    struct Options {
        std::uint16_t queue_size = 256;
        bool event_idx = true;  // accept VIRTIO_RING_F_EVENT_IDX if offered
    };
    struct Counters {
        std::uint64_t writes = 0;
        std::uint64_t notifications = 0;      // QueueNotify writes
        std::uint64_t interrupts = 0;         // on_interrupt calls
        std::uint64_t waits_for_room = 0;     // the ring was full
    };

    // `ram` is guest RAM at guest-physical `ram_base`; the rings take its
    // first ring_bytes(queue_size) bytes.
    MockBulkDriver(vmm::devices::VirtioMmio& mmio, std::function<void()> doorbell, mutable_byte_view ram,
                   std::uint64_t ram_base, Options options);

    static std::uint64_t ring_bytes(std::uint16_t queue_size) noexcept;

    // Reset, features, queue 5, DRIVER_OK. Throws std::runtime_error when
    // the device refuses a step.
    void probe();
    bool event_idx() const noexcept { return event_idx_; }

    // One write of the buffer at guest-physical [addr, addr + len): made
    // available, notified if the device asks for it. Waits for room first.
    void write(std::uint64_t addr, std::uint32_t len);
    // Until the device has used every buffer made available.
    void wait_idle();

    // The transport's interrupt line (the device's thread).
    void on_interrupt() noexcept;

    Counters counters() const noexcept;

private:
    std::atomic_ref<std::uint16_t> at16(std::uint64_t offset) const noexcept;
    void reclaim() noexcept;
    // Until at least `free` descriptors are free, taking interrupts.
    void wait_until_free(std::size_t free);
    void want_interrupts(bool on) noexcept;

    std::uint32_t read32(std::uint64_t offset);
    void write32(std::uint64_t offset, std::uint32_t value);

    vmm::devices::VirtioMmio& mmio_;
    std::function<void()> doorbell_;
    mutable_byte_view ram_;
    std::uint64_t ram_base_;
    Options options_;
    bool event_idx_ = false;
    std::uint16_t size_;
    std::uint64_t desc_ = 0, avail_ = 0, used_ = 0;  // offsets into ram_
    std::uint16_t avail_idx_ = 0;
    std::uint16_t last_used_ = 0;
    std::vector<std::uint16_t> free_;
    std::atomic<std::uint32_t> interrupts_{0};
    Counters counters_;
};

}  // namespace ktstr::bench
