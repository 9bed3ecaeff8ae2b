// What the device tree for a memory map must contain, written out by hand
// from Linux's arm64 booting rules and DT bindings: every node, and every
// property of each node, nothing more.
#pragma once

#include <fmt/core.h>

#include "arch/aarch64/layout.hpp"
#include "fdt_reader.hpp"

namespace ktstr::vmm::aarch64::test {

// `mpidrs`: the affinity value of each cpu node's reg.
inline Shape expected_shape(const MemoryMap& map, const std::vector<std::uint64_t>& mpidrs) {
    Shape s;
    s["/"] = {"compatible", "model", "#address-cells", "#size-cells", "interrupt-parent"};
    s["/chosen"] = {"bootargs", "stdout-path"};
    if (map.initrd)
        s["/chosen"].insert({"linux,initrd-start", "linux,initrd-end"});
    s["/aliases"] = {"serial0", "serial1"};
    for (const auto& r : map.ram)
        s[fmt::format("/memory@{:x}", r.start)] = {"device_type", "reg"};
    s["/reserved-memory"] = {"#address-cells", "#size-cells", "ranges"};
    s[fmt::format("/reserved-memory/ktstr-shm@{:x}", map.shm.start)] = {"reg", "no-map"};
    s["/cpus"] = {"#address-cells", "#size-cells"};
    for (auto m : mpidrs)
        s[fmt::format("/cpus/cpu@{:x}", m)] = {"device_type", "compatible", "reg", "enable-method"};
    s["/psci"] = {"compatible", "method"};
    s["/interrupt-controller@8000000"] = {"compatible",           "#interrupt-cells", "#address-cells",
                                          "interrupt-controller", "reg",              "phandle"};
    s["/timer"] = {"compatible", "interrupts", "always-on"};
    s["/serial@9000000"] = {"compatible", "reg", "interrupts", "clock-frequency"};
    s["/serial@9001000"] = {"compatible", "reg", "interrupts", "clock-frequency"};
    for (const auto& d : map.mmio)
        s[fmt::format("/virtio_mmio@{:x}", d.window.start)] = {"compatible", "reg", "interrupts", "dma-coherent"};
    return s;
}

}  // namespace ktstr::vmm::aarch64::test
