// Decoding guest writes to the ACPI sleep control and reset registers.
#include "arch/x86_64/acpi/sleep_control.hpp"

namespace ktstr::vmm::x86_64::acpi {

PowerRequest decode_power_write(std::uint16_t port, std::uint8_t value) noexcept {
    if (port == sleep_control_port && (value & sleep_enable) != 0 &&
        ((value >> sleep_type_shift) & sleep_type_mask) == s5_sleep_type)
        return PowerRequest::power_off;
    if (port == reset_port && value == reset_value)
        return PowerRequest::reset;
    return PowerRequest::none;
}

}  // namespace ktstr::vmm::x86_64::acpi
