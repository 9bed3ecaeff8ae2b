// The interrupt status a virtio transport reports to the driver, and the
// one line that carries it.
//
// A device signals through this object and nothing else: a used buffer
// (bit 0 of InterruptStatus), a configuration change (bit 1), or that it
// broke and needs a reset (DEVICE_NEEDS_RESET in the status register, with
// a configuration change interrupt, as virtio 1.2 §2.1.2 asks). Lock-free,
// so a device may signal with its own lock held.
#pragma once

#include <atomic>
#include <cstdint>

#include "devices/irq_line.hpp"

namespace ktstr::vmm::devices {

inline constexpr std::uint32_t virtio_interrupt_vring = 1;
inline constexpr std::uint32_t virtio_interrupt_config = 2;

class VirtioInterrupt {
public:
    explicit VirtioInterrupt(IrqLine line) : line_(std::move(line)) {}

    void signal_used_buffer() { raise(virtio_interrupt_vring); }
    void signal_config_change() { raise(virtio_interrupt_config); }
    void signal_needs_reset() {
        needs_reset_.store(true);
        raise(virtio_interrupt_config);
    }

    std::uint32_t status() const noexcept { return status_.load(); }
    void acknowledge(std::uint32_t bits) noexcept { status_.fetch_and(~bits); }
    bool needs_reset() const noexcept { return needs_reset_.load(); }
    void reset() noexcept {
        status_.store(0);
        needs_reset_.store(false);
    }

private:
    void raise(std::uint32_t bit) {
        status_.fetch_or(bit);
        if (line_)
            line_();
    }

    IrqLine line_;
    std::atomic<std::uint32_t> status_{0};
    std::atomic<bool> needs_reset_{false};
};

}  // namespace ktstr::vmm::devices
