// What a virtio device shows its transport (virtio 1.2 §2, §3).
//
// The device owns its features, its configuration space and the work on
// its queues; the transport (virtio_mmio.hpp) owns the registers, the
// status state machine and the interrupt status. The device learns guest
// memory, the queue layouts and its interrupt only at activate(), when the
// driver sets DRIVER_OK, and forgets them at reset().
//
// Threads: the transport calls every method but notify() with its own lock
// held; notify() comes from whichever thread saw the queue notification
// (an ioeventfd handler or a vCPU), concurrently with the rest. A device
// therefore guards its state with its own lock, taken after the
// transport's, and never calls back into the transport.
#pragma once

#include <cstdint>
#include <span>

#include "ktstr/common/guest_memory.hpp"
#include "devices/virtio_interrupt.hpp"
#include "devices/virtqueue.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::devices {

// Device status bits (§2.1).
inline constexpr std::uint32_t virtio_status_acknowledge = 1;
inline constexpr std::uint32_t virtio_status_driver = 2;
inline constexpr std::uint32_t virtio_status_driver_ok = 4;
inline constexpr std::uint32_t virtio_status_features_ok = 8;
inline constexpr std::uint32_t virtio_status_device_needs_reset = 64;
inline constexpr std::uint32_t virtio_status_failed = 128;

// Transport-independent feature bits (§6).
inline constexpr std::uint64_t virtio_f_version_1 = 1ull << 32;

struct VirtioActivation {
    const GuestMemory& memory;
    std::uint64_t features = 0;            // what the driver accepted
    std::span<const QueueConfig> queues;   // one per queue; ready == false for unused ones
    VirtioInterrupt& interrupt;
};

class VirtioDevice {
public:
    virtual ~VirtioDevice() = default;

    virtual std::uint32_t device_id() const noexcept = 0;
    virtual std::uint64_t features() const noexcept = 0;  // offered; includes virtio_f_version_1
    virtual std::uint16_t queue_count() const noexcept = 0;
    virtual std::uint16_t queue_size_max() const noexcept = 0;

    // Configuration space access at `offset`; bytes outside the space read
    // as zero and are ignored on write.
    virtual void read_config(std::uint64_t offset, mutable_byte_view out) const = 0;
    virtual void write_config(std::uint64_t offset, byte_view in) = 0;

    // Starts the device. Throws VirtqueueError when a ready queue's layout
    // is unusable; the device then stays inactive.
    virtual void activate(const VirtioActivation& activation) = 0;
    // Back to the state before activate(): queues dropped, no interrupts.
    virtual void reset() = 0;
    // The driver made buffers available on `queue`. Ignored while inactive
    // or broken. A guest breaking a queue rule marks the device broken and
    // signals needs-reset; it never throws for guest input. Returns true
    // when the device stopped with work left on the queue (it takes a
    // bounded amount per call, so a guest cannot hold it forever): the
    // caller calls again, after serving its other queues. The driver may
    // not notify for that work (notification suppression), so it must.
    virtual bool notify(std::uint16_t queue) = 0;
};

}  // namespace ktstr::vmm::devices
