// The virtio-mmio transport (virtio 1.2 §4.2), version 2 register layout:
// the register file a guest sees in one MMIO window, in front of one
// VirtioDevice.
//
// The VMM forwards each MMIO exit in the window to read()/write() with the
// offset from the window base, and each queue notification caught by an
// ioeventfd (on window + virtio_mmio_queue_notify, datamatch = queue index)
// to notify(). Registers are 32-bit and naturally aligned; other accesses
// below the configuration space read as zero and are ignored. The
// configuration space at 0x100 takes 1, 2, 4 and 8-byte accesses.
//
// Status: writing 0 resets the device. FEATURES_OK sticks only when the
// driver accepted a subset of the offered features including
// VIRTIO_F_VERSION_1. A queue's QueueReady sticks only when its size and
// areas are valid (queue_layout_error). DRIVER_OK activates the device;
// a layout that fails then, or a device that breaks later, shows
// DEVICE_NEEDS_RESET in the status with a configuration interrupt.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "ktstr/common/guest_memory.hpp"
#include "devices/irq_line.hpp"
#include "devices/virtio_device.hpp"
#include "devices/virtio_interrupt.hpp"
#include "devices/virtqueue.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::devices {

// Register offsets (§4.2.2).
inline constexpr std::uint64_t virtio_mmio_magic_value = 0x000;
inline constexpr std::uint64_t virtio_mmio_version = 0x004;
inline constexpr std::uint64_t virtio_mmio_device_id = 0x008;
inline constexpr std::uint64_t virtio_mmio_vendor_id = 0x00c;
inline constexpr std::uint64_t virtio_mmio_device_features = 0x010;
inline constexpr std::uint64_t virtio_mmio_device_features_sel = 0x014;
inline constexpr std::uint64_t virtio_mmio_driver_features = 0x020;
inline constexpr std::uint64_t virtio_mmio_driver_features_sel = 0x024;
inline constexpr std::uint64_t virtio_mmio_queue_sel = 0x030;
inline constexpr std::uint64_t virtio_mmio_queue_num_max = 0x034;
inline constexpr std::uint64_t virtio_mmio_queue_num = 0x038;
inline constexpr std::uint64_t virtio_mmio_queue_ready = 0x044;
inline constexpr std::uint64_t virtio_mmio_queue_notify = 0x050;
inline constexpr std::uint64_t virtio_mmio_interrupt_status = 0x060;
inline constexpr std::uint64_t virtio_mmio_interrupt_ack = 0x064;
inline constexpr std::uint64_t virtio_mmio_status = 0x070;
inline constexpr std::uint64_t virtio_mmio_queue_desc_low = 0x080;
inline constexpr std::uint64_t virtio_mmio_queue_desc_high = 0x084;
inline constexpr std::uint64_t virtio_mmio_queue_driver_low = 0x090;
inline constexpr std::uint64_t virtio_mmio_queue_driver_high = 0x094;
inline constexpr std::uint64_t virtio_mmio_queue_device_low = 0x0a0;
inline constexpr std::uint64_t virtio_mmio_queue_device_high = 0x0a4;
inline constexpr std::uint64_t virtio_mmio_shm_sel = 0x0ac;
inline constexpr std::uint64_t virtio_mmio_shm_len_low = 0x0b0;
inline constexpr std::uint64_t virtio_mmio_shm_len_high = 0x0b4;
inline constexpr std::uint64_t virtio_mmio_shm_base_low = 0x0b8;
inline constexpr std::uint64_t virtio_mmio_shm_base_high = 0x0bc;
inline constexpr std::uint64_t virtio_mmio_queue_reset = 0x0c0;
inline constexpr std::uint64_t virtio_mmio_config_generation = 0x0fc;
inline constexpr std::uint64_t virtio_mmio_config = 0x100;

inline constexpr std::uint32_t virtio_mmio_magic = 0x74726976;  // "virt"
inline constexpr std::uint32_t virtio_mmio_vendor = 0x5453544b;  // "KTST", no PCI vendor id to reuse

class VirtioMmio {
public:
    // `device` and `memory` must outlive the transport.
    VirtioMmio(VirtioDevice& device, const GuestMemory& memory, IrqLine irq);

    VirtioMmio(const VirtioMmio&) = delete;
    VirtioMmio& operator=(const VirtioMmio&) = delete;
    // Resets the device, which then holds no reference to the interrupt
    // this transport owns.
    ~VirtioMmio();

    // A guest access at `offset` into the window, data.size() bytes wide.
    void read(std::uint64_t offset, mutable_byte_view data);
    void write(std::uint64_t offset, byte_view data);

    // A notification for `queue` (the value the driver wrote to QueueNotify).
    // true: the device left work on the queue; call again (VirtioDevice::notify).
    bool notify(std::uint32_t queue);

    std::uint32_t status() const;
    // Why the last queue setup or activation was refused; empty if none was.
    std::string setup_error() const;

private:
    std::uint32_t read_register(std::uint64_t offset) const;
    void write_register(std::uint64_t offset, std::uint32_t value);
    void write_status(std::uint32_t value);
    void reset();
    QueueConfig* selected_queue();

    VirtioDevice& device_;
    const GuestMemory& memory_;
    VirtioInterrupt interrupt_;

    mutable std::mutex mutex_;
    std::uint32_t status_ = 0;
    std::uint32_t device_features_sel_ = 0;
    std::uint32_t driver_features_sel_ = 0;
    std::uint64_t driver_features_ = 0;
    bool driver_features_unknown_ = false;  // a bit accepted beyond the 64 offered
    std::uint32_t queue_sel_ = 0;
    std::vector<QueueConfig> queues_;
    bool active_ = false;
    std::string setup_error_;
};

}  // namespace ktstr::vmm::devices
