// Decoding the guest's writes to the ACPI sleep control and reset ports.
#include <catch2/catch.hpp>

#include "arch/x86_64/acpi/sleep_control.hpp"

using namespace ktstr::vmm::x86_64::acpi;

TEST_CASE("S5 with SLP_EN on the sleep control port is a power-off", "[x86_64][acpi]") {
    // What Linux's acpi_hw_extended_sleep writes for _S5 = 5.
    CHECK(decode_power_write(sleep_control_port, 0x34) == PowerRequest::power_off);
    CHECK(decode_power_write(sleep_control_port, 0x14) == PowerRequest::none);  // SLP_EN clear
    CHECK(decode_power_write(sleep_control_port, 0x20 | (3 << 2)) == PowerRequest::none);  // S3
    CHECK(decode_power_write(sleep_status_port, 0x34) == PowerRequest::none);
    CHECK(decode_power_write(sleep_status_port, 0x80) == PowerRequest::none);  // WAK_STS clear
}

TEST_CASE("the reset value on the reset port is a reset", "[x86_64][acpi]") {
    CHECK(decode_power_write(reset_port, reset_value) == PowerRequest::reset);
    CHECK(decode_power_write(reset_port, 0) == PowerRequest::none);
    CHECK(decode_power_write(0x64, 0xfe) == PowerRequest::none);
}
