// Code at the x86 reset vector, 0xF_FFF0 (CS:IP = F000:FFF0 in real mode).
//
// There is no BIOS, but Linux's reboot chain ends by jumping there in real
// mode (BOOT_BIOS, machine_real_restart) when the ACPI reset register and
// the keyboard controller did not reset the machine; with zeroed memory the
// vCPU would run `add` instructions forever instead of resetting. This stub
// writes the ACPI reset value to the reset register (acpi/sleep_control.hpp),
// which the VMM reads as a reset, then halts:
//
//   mov dx, reset_port ; mov al, reset_value ; out dx, al ; 1: hlt ; jmp 1b
#pragma once

#include <cstdint>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64 {

inline constexpr std::uint64_t reset_vector_address = 0xf'fff0;
inline constexpr std::uint64_t reset_vector_size = 16;  // up to 1 MiB

byte_buffer build_reset_vector();

}  // namespace ktstr::vmm::x86_64
