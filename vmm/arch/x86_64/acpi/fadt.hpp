// The FADT (signature "FACP"), ACPI 6.3 revision 6.
//
// Hardware-reduced (flag HW_REDUCED_ACPI): no PM1 blocks, PM timer, GPE
// blocks, SCI handler or FACS, which suits a VMM with no chipset. Linux then
// skips the PIT and the legacy PIC setup and takes its timer from the local
// APIC, as it does under Firecracker and QEMU's microvm. The table carries:
//   X_DSDT                 the DSDT
//   SLEEP_CONTROL_REG,
//   SLEEP_STATUS_REG       byte-wide I/O ports (sleep_control.hpp); both must
//                          be non-zero for Linux to offer ACPI power-off
//   RESET_REG, RESET_VALUE byte-wide I/O port and value; flag RESET_REG_SUP
//   IAPC_BOOT_ARCH         no 8042, no VGA, no MSI, no CMOS RTC: Linux
//                          skips probing for them
#pragma once

#include <cstddef>
#include <cstdint>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64::acpi {

inline constexpr std::uint8_t fadt_revision = 6;
inline constexpr std::uint8_t fadt_minor_revision = 3;
inline constexpr std::size_t fadt_size = 276;

// Field offsets (ACPI 6.3 Table 5-34) that tests and readers look at.
inline constexpr std::size_t fadt_iapc_boot_arch_offset = 109;
inline constexpr std::size_t fadt_flags_offset = 112;
inline constexpr std::size_t fadt_reset_reg_offset = 116;
inline constexpr std::size_t fadt_reset_value_offset = 128;
inline constexpr std::size_t fadt_x_dsdt_offset = 140;
inline constexpr std::size_t fadt_sleep_control_offset = 244;
inline constexpr std::size_t fadt_sleep_status_offset = 256;

inline constexpr std::uint32_t fadt_flag_wbinvd = 1u << 0;
inline constexpr std::uint32_t fadt_flag_power_button = 1u << 4;  // no fixed power button
inline constexpr std::uint32_t fadt_flag_sleep_button = 1u << 5;  // no fixed sleep button
inline constexpr std::uint32_t fadt_flag_reset_reg_sup = 1u << 10;
inline constexpr std::uint32_t fadt_flag_hw_reduced = 1u << 20;

inline constexpr std::uint16_t iapc_vga_not_present = 1u << 2;
inline constexpr std::uint16_t iapc_msi_not_supported = 1u << 3;
inline constexpr std::uint16_t iapc_cmos_rtc_not_present = 1u << 5;

byte_buffer build_fadt(std::uint64_t dsdt_address);

}  // namespace ktstr::vmm::x86_64::acpi
