// The x86 I/O ports the VMM answers itself, beyond the UARTs:
//   0x600..0x602  the hardware-reduced ACPI sleep control, sleep status and
//                 reset registers (arch/x86_64/acpi/sleep_control.hpp):
//                 writes decoded into power-off or reset; reads give 0, so
//                 Linux's poll of the sleep status ends at once
//   0x64          the keyboard controller's status/command port: reads 0
//                 (Linux's reboot fallback waits for a clear input buffer),
//                 command 0xFE (pulse the reset line) is a reset
// Every other port is unclaimed (reads all-ones, writes ignored). The PIT
// (0x40..0x43, 0x61) and the 8259s are KVM's, in the kernel.
#pragma once

#include <cstdint>
#include <functional>

#include "arch/x86_64/acpi/sleep_control.hpp"
#include "machine/bus.hpp"

namespace ktstr::vmm::machine {

inline constexpr std::uint16_t i8042_command_port = 0x64;
inline constexpr std::uint8_t i8042_pulse_reset = 0xfe;

// Called from a vCPU thread for each power-off or reset request.
using PowerHandler = std::function<void(x86_64::acpi::PowerRequest)>;

void add_legacy_ports(Bus& io, PowerHandler on_power);

}  // namespace ktstr::vmm::machine
