// The flattened device tree an arm64 Linux guest boots with, built with
// libfdt's sequential-write API from the arch-neutral memory map.
//
// The tree (unit addresses in hex):
//   /                  compatible "linux,dummy-virt", #address-cells = #size-cells = 2,
//                      interrupt-parent = the GIC
//   /chosen            bootargs, stdout-path (first UART), linux,initrd-start/-end (u64)
//   /aliases           serial0, serial1 (fixes ttyS0/ttyS1 to the UARTs in address order)
//   /memory@<ram>      device_type "memory", one node per RAM range: the SHM region is in none
//   /reserved-memory   #address-cells = #size-cells = 2, ranges;
//     ktstr-shm@<shm>  reg = the SHM region, no-map
//   /cpus              #address-cells 1, #size-cells 0
//     cpu@<mpidr>      device_type "cpu", compatible "arm,arm-v8", reg = MPIDR affinity, enable-method "psci"
//   /psci              compatible "arm,psci-1.0" "arm,psci-0.2", method "hvc"
//   /interrupt-controller@8000000  GICv3: distributor + one redistributor region
//   /timer             compatible "arm,armv8-timer", the four timer PPIs, always-on
//   /serial@<uart>     compatible "ns16550a", clock-frequency, SPI edge-rising
//   /virtio_mmio@<w>   compatible "virtio,mmio", SPI edge-rising, dma-coherent, one per map.mmio entry
// plus one /memreserve/ entry equal to the SHM region.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::aarch64 {

// The GIC's phandle: the root's interrupt-parent.
inline constexpr std::uint32_t gic_phandle = 1;

// Device tree interrupt specifier cells for the GICv3 binding.
inline constexpr std::uint32_t gic_fdt_spi = 0;
inline constexpr std::uint32_t gic_fdt_ppi = 1;
inline constexpr std::uint32_t irq_type_edge_rising = 1;
inline constexpr std::uint32_t irq_type_level_high = 4;

// Architected timer PPIs, in the binding's order: secure physical,
// non-secure physical, virtual, hypervisor physical.
inline constexpr std::uint32_t timer_ppis[4] = {13, 14, 11, 10};

// MPIDR_EL1 that KVM gives vCPU `index` by default: Aff0 counts 0..15
// (GICv3 targets at most 16 CPUs per Aff0 cluster), Aff1 the cluster.
std::uint64_t kvm_default_mpidr(std::uint32_t index) noexcept;

// Builds the blob for `map`, with cpu nodes from KVM's default MPIDRs.
// Throws LayoutError when the map is inconsistent (SHM overlapping RAM,
// initrd outside RAM, CPU count out of range, ...) and std::runtime_error
// if libfdt fails or the blob would exceed the arm64 limit of 2 MiB.
byte_buffer build_fdt(const MemoryMap& map);

// As above with the vCPUs' MPIDR_EL1 values read from KVM; one per CPU.
byte_buffer build_fdt(const MemoryMap& map, std::span<const std::uint64_t> mpidrs);

}  // namespace ktstr::vmm::aarch64
