#include "machine/legacy_ports.hpp"

#include <algorithm>

namespace ktstr::vmm::machine {

namespace acpi = x86_64::acpi;

void add_legacy_ports(Bus& io, PowerHandler on_power) {
    const std::uint64_t first = acpi::sleep_control_port;
    io.add({first, acpi::reset_port - first + 1u},
           BusDevice{"acpi-power",
                     [](std::uint64_t, mutable_byte_view data) { std::fill(data.begin(), data.end(), 0); },
                     [on_power](std::uint64_t offset, byte_view data) {
                         for (std::size_t i = 0; i < data.size(); ++i) {
                             const auto port = static_cast<std::uint16_t>(first + offset + i);
                             const auto r = acpi::decode_power_write(port, data[i]);
                             if (r != acpi::PowerRequest::none)
                                 on_power(r);
                         }
                     }});
    io.add({i8042_command_port, 1},
           BusDevice{"i8042",
                     [](std::uint64_t, mutable_byte_view data) { std::fill(data.begin(), data.end(), 0); },
                     [on_power](std::uint64_t, byte_view data) {
                         if (!data.empty() && data[0] == i8042_pulse_reset)
                             on_power(acpi::PowerRequest::reset);
                     }});
}

}  // namespace ktstr::vmm::machine
