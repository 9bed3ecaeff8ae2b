// The multiport control message of virtio-console (virtio 1.2 §5.3.6.2),
// exchanged on the control queues: {id u32, event u16, value u16},
// little-endian, optionally followed by a payload (the name of
// VIRTIO_CONSOLE_PORT_NAME, without a terminating NUL).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ktstr::vmm::devices {

struct VirtioConsoleControl {
    std::uint32_t id;     // port number
    std::uint16_t event;  // VirtioConsoleEvent
    std::uint16_t value;
};
static_assert(sizeof(VirtioConsoleControl) == 8);
static_assert(offsetof(VirtioConsoleControl, id) == 0);
static_assert(offsetof(VirtioConsoleControl, event) == 4);
static_assert(offsetof(VirtioConsoleControl, value) == 6);

enum class VirtioConsoleEvent : std::uint16_t {
    device_ready = 0,  // driver -> device: value 1 ready, 0 failed
    port_add = 1,      // device -> driver
    port_remove = 2,   // device -> driver
    port_ready = 3,    // driver -> device: value 1 ready, 0 failed
    console_port = 4,  // device -> driver: this port is a console
    resize = 5,        // device -> driver
    port_open = 6,     // both ways: value 1 open, 0 closed
    port_name = 7,     // device -> driver: name follows
};

// The id the driver uses for messages about the whole device.
inline constexpr std::uint32_t virtio_console_bad_id = 0xffff'ffff;

}  // namespace ktstr::vmm::devices
