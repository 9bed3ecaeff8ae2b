// The DSDT: the devices Linux cannot probe for.
//
//   \_SB_.COM1, COM2   16550 UARTs (PNP0501) at 0x3F8/IRQ 4 and 0x2F8/IRQ 3
//   \_SB_.V000..V007   one per virtio-mmio window: _HID "LNRO0005" (what
//                      Linux's virtio_mmio driver matches), _UID i, _CRS with
//                      Memory32Fixed (the window) and an edge-triggered,
//                      active-high Interrupt (the window's GSI)
//   \_S5_              Package {5, 5, 0, 0}: the power-off sleep type
//                      (sleep_control.hpp)
#pragma once

#include <ktstr/common/bytes.hpp>

#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64::acpi {

inline constexpr std::uint8_t dsdt_revision = 2;  // 64-bit AML integers

// Throws LayoutError when a virtio window or its GSI cannot be described
// (window above 4 GiB, more than virtio_max_devices devices).
byte_buffer build_dsdt(const MemoryMap& map);

}  // namespace ktstr::vmm::x86_64::acpi
