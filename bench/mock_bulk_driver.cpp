#include "mock_bulk_driver.hpp"

#include <stdexcept>

#include "devices/virtio_console.hpp"

namespace ktstr::bench {

namespace devices = vmm::devices;

namespace {

constexpr std::uint16_t bulk_transmit_queue = 5;  // port 1: queues 4 (receive) and 5

constexpr std::uint64_t desc_bytes(std::uint16_t n) { return 16ull * n; }
constexpr std::uint64_t avail_bytes(std::uint16_t n) { return 6 + 2ull * n; }  // used_event included
constexpr std::uint64_t align4(std::uint64_t v) { return (v + 3) / 4 * 4; }

}  // namespace

MockBulkDriver::MockBulkDriver(devices::VirtioMmio& mmio, std::function<void()> doorbell, mutable_byte_view ram,
                               std::uint64_t ram_base, Options options)
    : mmio_(mmio), doorbell_(std::move(doorbell)), ram_(ram), ram_base_(ram_base), options_(options), size_(options.queue_size) {
    if (ram.size() < ring_bytes(size_))
        throw std::invalid_argument("guest RAM too small for the rings");
    desc_ = 0;
    avail_ = desc_bytes(size_);
    used_ = align4(avail_ + avail_bytes(size_));
    for (std::uint16_t i = 0; i < size_; ++i)
        free_.push_back(static_cast<std::uint16_t>(size_ - 1 - i));
}

std::uint64_t MockBulkDriver::ring_bytes(std::uint16_t n) noexcept {
    return align4(desc_bytes(n) + avail_bytes(n)) + 6 + 8ull * n;  // used ring with avail_event
}

std::uint32_t MockBulkDriver::read32(std::uint64_t offset) {
    std::uint8_t b[4];
    mmio_.read(offset, b);
    return load_le<std::uint32_t>(b);
}

void MockBulkDriver::write32(std::uint64_t offset, std::uint32_t value) {
    std::uint8_t b[4];
    store_le<std::uint32_t>(b, value);
    mmio_.write(offset, b);
}

std::atomic_ref<std::uint16_t> MockBulkDriver::at16(std::uint64_t offset) const noexcept {
    return std::atomic_ref<std::uint16_t>(*reinterpret_cast<std::uint16_t*>(ram_.data() + offset));
}

void MockBulkDriver::probe() {
    write32(devices::virtio_mmio_status, 0);
    auto add_status = [&](std::uint32_t bits) {
        write32(devices::virtio_mmio_status, read32(devices::virtio_mmio_status) | bits);
    };
    add_status(devices::virtio_status_acknowledge);
    add_status(devices::virtio_status_driver);
    write32(devices::virtio_mmio_device_features_sel, 0);
    const std::uint32_t offered_low = read32(devices::virtio_mmio_device_features);
    std::uint32_t low = offered_low & static_cast<std::uint32_t>(devices::virtio_console_f_multiport);
    if (options_.event_idx)
        low |= offered_low & static_cast<std::uint32_t>(devices::virtio_ring_f_event_idx);
    event_idx_ = (low & devices::virtio_ring_f_event_idx) != 0;
    write32(devices::virtio_mmio_driver_features_sel, 1);
    write32(devices::virtio_mmio_driver_features, static_cast<std::uint32_t>(devices::virtio_f_version_1 >> 32));
    write32(devices::virtio_mmio_driver_features_sel, 0);
    write32(devices::virtio_mmio_driver_features, low);
    add_status(devices::virtio_status_features_ok);
    if (!(read32(devices::virtio_mmio_status) & devices::virtio_status_features_ok))
        throw std::runtime_error("the device refused the features");

    write32(devices::virtio_mmio_queue_sel, bulk_transmit_queue);
    if (read32(devices::virtio_mmio_queue_num_max) < size_)
        throw std::runtime_error("queue size above the device's maximum");
    write32(devices::virtio_mmio_queue_num, size_);
    auto program = [&](std::uint64_t low_reg, std::uint64_t offset) {
        const std::uint64_t gpa = ram_base_ + offset;
        write32(low_reg, static_cast<std::uint32_t>(gpa));
        write32(low_reg + 4, static_cast<std::uint32_t>(gpa >> 32));
    };
    program(devices::virtio_mmio_queue_desc_low, desc_);
    program(devices::virtio_mmio_queue_driver_low, avail_);
    program(devices::virtio_mmio_queue_device_low, used_);
    write32(devices::virtio_mmio_queue_ready, 1);
    if (read32(devices::virtio_mmio_queue_ready) != 1)
        throw std::runtime_error("the device refused the queue");
    want_interrupts(false);
    add_status(devices::virtio_status_driver_ok);
    if (read32(devices::virtio_mmio_status) & devices::virtio_status_device_needs_reset)
        throw std::runtime_error("the device needs a reset after DRIVER_OK");
}

void MockBulkDriver::want_interrupts(bool on) noexcept {
    if (event_idx_) {
        // On: at the next used entry. Off: half the index space away, which
        // no batch of at most a ring's worth reaches.
        at16(avail_ + 4 + 2ull * size_)
            .store(static_cast<std::uint16_t>(last_used_ + (on ? 0 : 0x8000)), std::memory_order_relaxed);
    } else {
        at16(avail_).store(on ? 0 : devices::virtq_avail_f_no_interrupt, std::memory_order_relaxed);
    }
}

void MockBulkDriver::reclaim() noexcept {
    const std::uint16_t used_idx = at16(used_ + 2).load(std::memory_order_acquire);
    for (; last_used_ != used_idx; ++last_used_) {
        const auto id = load_le<std::uint32_t>(ram_.data() + used_ + 4 + 8ull * (last_used_ % size_));
        free_.push_back(static_cast<std::uint16_t>(id));
    }
}

void MockBulkDriver::wait_until_free(std::size_t free) {
    for (;;) {
        const std::uint32_t seen = interrupts_.load(std::memory_order_acquire);
        want_interrupts(true);
        // The device publishes its used index, then reads what we want;
        // we do the opposite. One of the two sees the other.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        reclaim();
        if (free_.size() >= free) {
            want_interrupts(false);
            return;
        }
        interrupts_.wait(seen, std::memory_order_acquire);
    }
}

void MockBulkDriver::write(std::uint64_t addr, std::uint32_t len) {
    reclaim();
    if (free_.empty()) {
        ++counters_.waits_for_room;
        wait_until_free(1);
    }
    const std::uint16_t id = free_.back();
    free_.pop_back();
    std::uint8_t* d = ram_.data() + desc_ + 16ull * id;
    store_le<std::uint64_t>(d, addr);
    store_le<std::uint32_t>(d + 8, len);
    store_le<std::uint16_t>(d + 12, 0);
    store_le<std::uint16_t>(d + 14, 0);
    store_le<std::uint16_t>(ram_.data() + avail_ + 4 + 2ull * (avail_idx_ % size_), id);
    const std::uint16_t old_idx = avail_idx_++;
    at16(avail_ + 2).store(avail_idx_, std::memory_order_release);
    ++counters_.writes;
    // virtqueue_kick_prepare: publish, full barrier, then read what the
    // device wants.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const bool notify =
        event_idx_ ? devices::event_index_passed(at16(used_ + 4 + 8ull * size_).load(std::memory_order_relaxed),
                                                 avail_idx_, old_idx)
                   : (at16(used_).load(std::memory_order_relaxed) & devices::virtq_used_f_no_notify) == 0;
    if (notify) {
        ++counters_.notifications;
        doorbell_();
    }
}

void MockBulkDriver::wait_idle() { wait_until_free(size_); }

void MockBulkDriver::on_interrupt() noexcept {
    interrupts_.fetch_add(1, std::memory_order_release);
    interrupts_.notify_one();
}

MockBulkDriver::Counters MockBulkDriver::counters() const noexcept {
    Counters c = counters_;
    c.interrupts = interrupts_.load(std::memory_order_relaxed);
    return c;
}

}  // namespace ktstr::bench
