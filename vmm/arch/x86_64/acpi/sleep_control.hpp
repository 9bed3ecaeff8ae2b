// How the guest powers off and resets: the hardware-reduced ACPI registers
// the FADT points at, and how the VMM reads a write to them.
//
// The FADT declares hardware-reduced ACPI, so Linux uses neither the PM1
// blocks nor an SCI. Power-off: Linux evaluates \_S5 (SLP_TYP 5 from the
// DSDT) and writes (SLP_TYP << 2) | SLP_EN to SLEEP_CONTROL_REG, one byte at
// sleep_control_port (ACPI 6.3 §4.8.3.7); it first writes WAK_STS to
// SLEEP_STATUS_REG and, for sleep states, polls it, which reads 0 here.
// Reset: with the FADT's RESET_REG_SUP flag and reboot=acpi on the command
// line (layout.hpp's base_cmdline; without it a hardware-reduced machine
// gets EFI reboot), Linux writes reset_value to RESET_REG, one byte at
// reset_port; so does the stub at the reset vector (reset_vector.hpp).
// The VMM's port-I/O exit handler passes every write in [sleep_control_port,
// reset_port] to decode_power_write() and stops the VM on power_off or reset
// (a triple fault, KVM_EXIT_SHUTDOWN, is the other way a guest resets).
#pragma once

#include <cstdint>

namespace ktstr::vmm::x86_64::acpi {

inline constexpr std::uint16_t sleep_control_port = 0x600;
inline constexpr std::uint16_t sleep_status_port = 0x601;
inline constexpr std::uint16_t reset_port = 0x602;
inline constexpr std::uint8_t reset_value = 0x01;

// The _S5 package's SLP_TYPa and SLP_TYPb.
inline constexpr std::uint8_t s5_sleep_type = 5;

// SLEEP_CONTROL_REG fields.
inline constexpr std::uint8_t sleep_type_shift = 2;
inline constexpr std::uint8_t sleep_type_mask = 0x07;
inline constexpr std::uint8_t sleep_enable = 0x20;

enum class PowerRequest { none, power_off, reset };

// What a one-byte guest write of `value` to `port` asks for; none for any
// other port, for a sleep state other than S5, or without SLP_EN.
PowerRequest decode_power_write(std::uint16_t port, std::uint8_t value) noexcept;

}  // namespace ktstr::vmm::x86_64::acpi
