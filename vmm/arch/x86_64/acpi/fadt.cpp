// FADT: hardware-reduced ACPI with sleep control and reset registers.
#include "arch/x86_64/acpi/fadt.hpp"

#include <stdexcept>

#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/acpi/sleep_control.hpp"

namespace ktstr::vmm::x86_64::acpi {
namespace {

constexpr std::uint8_t address_space_io = 1;
constexpr std::uint8_t access_size_byte = 1;
constexpr std::uint8_t sci_irq = 9;  // unused in hardware-reduced mode; matches the MADT override
// Latencies above 100 / 1000 us say C2 / C3 are not supported.
constexpr std::uint16_t c2_not_supported = 101;
constexpr std::uint16_t c3_not_supported = 1001;

// Generic Address Structure (ACPI 6.3 §5.2.3.2) for one byte-wide port.
void io_byte_register(byte_buffer& t, std::uint16_t port) {
    t.push_back(address_space_io);
    t.push_back(8);  // register bit width
    t.push_back(0);  // bit offset
    t.push_back(access_size_byte);
    append_le<std::uint64_t>(t, port);
}

void empty_register(byte_buffer& t) { t.insert(t.end(), 12, 0); }

}  // namespace

byte_buffer build_fadt(std::uint64_t dsdt_address) {
    byte_buffer t = begin_sdt("FACP", fadt_revision);
    append_le<std::uint32_t>(t, 0);  // FIRMWARE_CTRL: no FACS
    append_le<std::uint32_t>(t, 0);  // DSDT: X_DSDT below is used
    t.push_back(0);                  // reserved
    t.push_back(0);                  // Preferred_PM_Profile: unspecified
    append_le<std::uint16_t>(t, sci_irq);
    append_le<std::uint32_t>(t, 0);  // SMI_CMD: no SMM, ACPI always on
    t.insert(t.end(), 4, 0);         // ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
    t.insert(t.end(), 8 * 4, 0);     // PM1a/b event and control, PM2, PM timer, GPE0/1 blocks
    t.insert(t.end(), 8, 0);         // their lengths, GPE1_BASE, CST_CNT
    append_le(t, c2_not_supported);
    append_le(t, c3_not_supported);
    append_le<std::uint16_t>(t, 0);  // FLUSH_SIZE
    append_le<std::uint16_t>(t, 0);  // FLUSH_STRIDE
    t.insert(t.end(), 5, 0);         // DUTY_OFFSET, DUTY_WIDTH, DAY_ALRM, MON_ALRM, CENTURY
    append_le<std::uint16_t>(t, iapc_vga_not_present | iapc_msi_not_supported | iapc_cmos_rtc_not_present);
    t.push_back(0);  // reserved
    append_le<std::uint32_t>(t, fadt_flag_wbinvd | fadt_flag_power_button | fadt_flag_sleep_button |
                                    fadt_flag_reset_reg_sup | fadt_flag_hw_reduced);
    io_byte_register(t, reset_port);
    t.push_back(reset_value);
    append_le<std::uint16_t>(t, 0);  // ARM_BOOT_ARCH
    t.push_back(fadt_minor_revision);
    append_le<std::uint64_t>(t, 0);  // X_FIRMWARE_CTRL
    append_le(t, dsdt_address);      // X_DSDT
    for (int i = 0; i < 8; ++i)      // X_PM1a/b event and control, X_PM2, X_PM timer, X_GPE0/1
        empty_register(t);
    io_byte_register(t, sleep_control_port);
    io_byte_register(t, sleep_status_port);
    append_chars(t, "KTSTRVMM");  // Hypervisor Vendor Identity
    if (t.size() != fadt_size)
        throw std::logic_error("FADT built with the wrong size");
    finish_sdt(t);
    return t;
}

}  // namespace ktstr::vmm::x86_64::acpi
