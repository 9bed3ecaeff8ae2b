#include "devices/virtio_mmio.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ktstr::vmm::devices {

namespace {

void set_low(std::uint64_t& field, std::uint32_t v) { field = (field & ~0xffff'ffffull) | v; }
void set_high(std::uint64_t& field, std::uint32_t v) { field = (field & 0xffff'ffffull) | (std::uint64_t{v} << 32); }

}  // namespace

VirtioMmio::VirtioMmio(VirtioDevice& device, const GuestMemory& memory, IrqLine irq)
    : device_(device), memory_(memory), interrupt_(std::move(irq)), queues_(device.queue_count()) {}

VirtioMmio::~VirtioMmio() { device_.reset(); }

void VirtioMmio::read(std::uint64_t offset, mutable_byte_view data) {
    std::fill(data.begin(), data.end(), std::uint8_t{0});
    if (offset >= virtio_mmio_config) {
        if (data.size() == 1 || data.size() == 2 || data.size() == 4 || data.size() == 8) {
            std::lock_guard lock(mutex_);
            device_.read_config(offset - virtio_mmio_config, data);
        }
        return;
    }
    if (data.size() != 4 || offset % 4 != 0)
        return;
    std::lock_guard lock(mutex_);
    store_le<std::uint32_t>(data.data(), read_register(offset));
}

void VirtioMmio::write(std::uint64_t offset, byte_view data) {
    if (offset >= virtio_mmio_config) {
        if (data.size() == 1 || data.size() == 2 || data.size() == 4 || data.size() == 8) {
            std::lock_guard lock(mutex_);
            device_.write_config(offset - virtio_mmio_config, data);
        }
        return;
    }
    if (data.size() != 4 || offset % 4 != 0)
        return;
    const auto value = load_le<std::uint32_t>(data.data());
    if (offset == virtio_mmio_queue_notify) {
        // Outside the transport lock: the device may run its transmit sink.
        // What the device leaves (notify() true) waits for the next one:
        // the VMM catches every queue's notification with an ioeventfd,
        // whose thread calls again; this register path serves tests and a
        // write the ioeventfds did not match.
        (void)notify(value);
        return;
    }
    std::lock_guard lock(mutex_);
    write_register(offset, value);
}

bool VirtioMmio::notify(std::uint32_t queue) {
    return queue < device_.queue_count() && device_.notify(static_cast<std::uint16_t>(queue));
}

std::uint32_t VirtioMmio::status() const {
    std::lock_guard lock(mutex_);
    return status_ | (interrupt_.needs_reset() ? virtio_status_device_needs_reset : 0);
}

std::string VirtioMmio::setup_error() const {
    std::lock_guard lock(mutex_);
    return setup_error_;
}

QueueConfig* VirtioMmio::selected_queue() {
    return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

std::uint32_t VirtioMmio::read_register(std::uint64_t offset) const {
    const QueueConfig* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
    switch (offset) {
    case virtio_mmio_magic_value:
        return virtio_mmio_magic;
    case virtio_mmio_version:
        return 2;
    case virtio_mmio_device_id:
        return device_.device_id();
    case virtio_mmio_vendor_id:
        return virtio_mmio_vendor;
    case virtio_mmio_device_features:
        if (device_features_sel_ > 1)
            return 0;
        return static_cast<std::uint32_t>(device_.features() >> (32 * device_features_sel_));
    case virtio_mmio_queue_num_max:
        return q ? device_.queue_size_max() : 0;
    case virtio_mmio_queue_ready:
        return q && q->ready ? 1 : 0;
    case virtio_mmio_interrupt_status:
        return interrupt_.status();
    case virtio_mmio_status:
        return status_ | (interrupt_.needs_reset() ? virtio_status_device_needs_reset : 0);
    case virtio_mmio_shm_len_low:
    case virtio_mmio_shm_len_high:
    case virtio_mmio_shm_base_low:
    case virtio_mmio_shm_base_high:
        return 0xffff'ffff;  // length -1: no shared memory region with this id
    case virtio_mmio_config_generation:
        return 0;  // the configuration space never changes after reset
    default:
        return 0;  // write-only or reserved
    }
}

void VirtioMmio::write_register(std::uint64_t offset, std::uint32_t value) {
    // The driver may only set up features and queues before DRIVER_OK;
    // later writes to them are ignored rather than tearing a live queue.
    const bool features_open = !(status_ & (virtio_status_features_ok | virtio_status_driver_ok));
    QueueConfig* q = status_ & virtio_status_driver_ok ? nullptr : selected_queue();
    const bool queue_open = q && !q->ready;
    switch (offset) {
    case virtio_mmio_device_features_sel:
        device_features_sel_ = value;
        break;
    case virtio_mmio_driver_features:
        if (!features_open)
            break;
        if (driver_features_sel_ <= 1) {
            const unsigned shift = 32 * driver_features_sel_;
            driver_features_ = (driver_features_ & ~(0xffff'ffffull << shift)) | (std::uint64_t{value} << shift);
        } else if (value != 0) {
            driver_features_unknown_ = true;
        }
        break;
    case virtio_mmio_driver_features_sel:
        driver_features_sel_ = value;
        break;
    case virtio_mmio_queue_sel:
        queue_sel_ = value;
        break;
    case virtio_mmio_queue_num:
        if (queue_open)
            q->size = static_cast<std::uint16_t>(std::min<std::uint32_t>(value, 0xffff));
        // A value above 0xffff is as invalid as 0xffff itself: both fail
        // the power-of-two-and-maximum check at QueueReady.
        break;
    case virtio_mmio_queue_ready:
        if (!q)
            break;
        if (value == 0) {
            q->ready = false;
        } else if (!q->ready) {
            const bool event_idx = (driver_features_ & virtio_ring_f_event_idx) != 0;
            if (auto error = queue_layout_error(memory_, *q, device_.queue_size_max(), event_idx); !error.empty())
                setup_error_ = fmt::format("queue {}: {}", queue_sel_, error);
            else
                q->ready = true;
        }
        break;
    case virtio_mmio_queue_desc_low:
        if (queue_open)
            set_low(q->desc_table, value);
        break;
    case virtio_mmio_queue_desc_high:
        if (queue_open)
            set_high(q->desc_table, value);
        break;
    case virtio_mmio_queue_driver_low:
        if (queue_open)
            set_low(q->avail_ring, value);
        break;
    case virtio_mmio_queue_driver_high:
        if (queue_open)
            set_high(q->avail_ring, value);
        break;
    case virtio_mmio_queue_device_low:
        if (queue_open)
            set_low(q->used_ring, value);
        break;
    case virtio_mmio_queue_device_high:
        if (queue_open)
            set_high(q->used_ring, value);
        break;
    case virtio_mmio_interrupt_ack:
        interrupt_.acknowledge(value);
        break;
    case virtio_mmio_status:
        write_status(value);
        break;
    default:
        break;  // read-only, reserved, SHMSel (no regions), QueueReset (not offered)
    }
}

void VirtioMmio::write_status(std::uint32_t value) {
    if (value == 0) {
        reset();
        return;
    }
    const std::uint32_t added = value & ~status_;
    std::uint32_t next = value & ~virtio_status_device_needs_reset;  // the device's bit, not the driver's
    if (added & virtio_status_features_ok) {
        const std::uint64_t offered = device_.features();
        if ((driver_features_ & ~offered) != 0 || driver_features_unknown_ ||
            !(driver_features_ & virtio_f_version_1))
            next &= ~virtio_status_features_ok;  // the driver reads it back and gives up
    }
    if ((added & virtio_status_driver_ok) && !active_) {
        if (!(next & virtio_status_features_ok)) {
            setup_error_ = "DRIVER_OK without FEATURES_OK";
            interrupt_.signal_needs_reset();
        } else {
            try {
                device_.activate(VirtioActivation{memory_, driver_features_, queues_, interrupt_});
                active_ = true;
            } catch (const VirtqueueError& e) {
                setup_error_ = e.what();
                interrupt_.signal_needs_reset();
            }
        }
    }
    status_ = next;
}

void VirtioMmio::reset() {
    // Under the transport lock, unlike a notify: the device's reset may run
    // its transmit sink (virtio_console.cpp), which must not call back into
    // the transport; the console's sink only queues bytes for the host.
    device_.reset();
    interrupt_.reset();
    status_ = 0;
    device_features_sel_ = 0;
    driver_features_sel_ = 0;
    driver_features_ = 0;
    driver_features_unknown_ = false;
    queue_sel_ = 0;
    std::fill(queues_.begin(), queues_.end(), QueueConfig{});
    active_ = false;
}

}  // namespace ktstr::vmm::devices
