// DSDT: serial ports, virtio-mmio devices, \_S5.
#include "arch/x86_64/acpi/dsdt.hpp"

#include <fmt/core.h>

#include "arch/x86_64/acpi/aml_writer.hpp"
#include "arch/x86_64/acpi/sdt.hpp"
#include "arch/x86_64/acpi/sleep_control.hpp"
#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64::acpi {
namespace {

byte_buffer serial_port(std::string_view name, std::uint32_t uid, std::uint16_t port, std::uint32_t irq) {
    return aml::device(name, {
                                 aml::name("_HID", aml::eisa_id("PNP0501")),
                                 aml::name("_UID", aml::integer(uid)),
                                 aml::name("_CRS", aml::resource_template({
                                                       aml::io_port(port, 8),
                                                       aml::irq_no_flags(static_cast<std::uint8_t>(irq)),
                                                   })),
                             });
}

byte_buffer virtio_mmio(std::uint32_t index, const MmioDevice& dev) {
    if (dev.window.end() > mmio_hole_end || dev.window.size > UINT32_MAX)
        throw LayoutError(fmt::format("{}: window {:#x}+{:#x} does not fit a Memory32Fixed descriptor", dev.name,
                                      dev.window.start, dev.window.size));
    if (dev.irq >= ioapic_pins)
        throw LayoutError(fmt::format("{}: GSI {} is beyond the IOAPIC's {} pins", dev.name, dev.irq, ioapic_pins));
    // Edge-triggered: the VMM raises the line through an irqfd per event,
    // with no resample; the driver reads InterruptStatus anyway.
    return aml::device(fmt::format("V{:03X}", index),
                       {
                           aml::name("_HID", aml::string("LNRO0005")),
                           aml::name("_UID", aml::integer(index)),
                           aml::name("_CRS", aml::resource_template({
                                                 aml::memory32_fixed(static_cast<std::uint32_t>(dev.window.start),
                                                                     static_cast<std::uint32_t>(dev.window.size)),
                                                 aml::extended_interrupt(dev.irq, true, false, false),
                                             })),
                       });
}

}  // namespace

byte_buffer build_dsdt(const MemoryMap& map) {
    if (map.mmio.size() > virtio_max_devices)
        throw LayoutError(fmt::format("{} virtio devices; the DSDT describes at most {}", map.mmio.size(),
                                      virtio_max_devices));
    aml::Terms devices{
        serial_port("COM1", 1, com1_port, com1_irq),
        serial_port("COM2", 2, com2_port, com2_irq),
    };
    for (std::uint32_t i = 0; i < map.mmio.size(); ++i)
        devices.push_back(virtio_mmio(i, map.mmio[i]));

    byte_buffer t = begin_sdt("DSDT", dsdt_revision);
    for (const auto& term : {
             aml::scope("\\_SB_", devices),
             aml::name("\\_S5_", aml::package({aml::integer(s5_sleep_type), aml::integer(s5_sleep_type),
                                                aml::integer(0), aml::integer(0)})),
         })
        t.insert(t.end(), term.begin(), term.end());
    finish_sdt(t);
    return t;
}

}  // namespace ktstr::vmm::x86_64::acpi
