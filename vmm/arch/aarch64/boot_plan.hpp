// Everything the VMM writes into guest RAM before vCPU 0 first runs, and
// where vCPU 0 starts: the arm64 boot (booting.rst) in one value.
//
//   auto image = Image::parse_view(file);
//   auto map = layout_aarch64({..., .initrd_bytes = initrd.size(),
//                              .kernel_reserve = kernel_reserve(image)});
//   auto plan = plan_boot(image, map, initrd, mpidrs);
//   for (const GuestWrite& w : plan.writes()) guest_memory.write(w.address, w.bytes);
//   vCPU 0: pc = plan.entry(), x0 = plan.fdt_address(), x1..x3 = 0;
//   the other vCPUs start powered off and come up through PSCI CPU_ON.
//
// Writes: the Image at its load address, the initrd where the layout put
// it, the device tree in its 2 MiB slot. Each lies inside RAM; the caller
// still bounds-checks them against its own mapping.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "arch/aarch64/image.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::aarch64 {

struct GuestWrite {
    std::uint64_t address = 0;
    byte_view bytes;
    std::string_view what;  // "kernel", "initrd", "device tree"
};

class BootPlan {
public:
    // The views point into this plan (the device tree), the Image's file
    // and the initrd: all three must outlive the writes. A move keeps them
    // valid.
    const std::vector<GuestWrite>& writes() const noexcept { return writes_; }
    std::uint64_t entry() const noexcept { return entry_; }
    std::uint64_t fdt_address() const noexcept { return fdt_address_; }
    byte_view fdt() const noexcept { return fdt_; }

private:
    friend BootPlan plan_boot(const Image&, const MemoryMap&, byte_view, std::span<const std::uint64_t>);
    BootPlan() = default;
    std::vector<GuestWrite> writes_;
    byte_buffer fdt_;
    std::uint64_t entry_ = 0;
    std::uint64_t fdt_address_ = 0;
};

// RAM the layout keeps for the Image from the RAM base: text_offset plus
// image_size, rounded up to 2 MiB.
std::uint64_t kernel_reserve(const Image& image) noexcept;

// Throws LayoutError when the map does not fit the Image (its reserve
// overlapping the initrd, an SHM region not aligned to the page size the
// Image declares), the initrd size disagrees with the map, or `mpidrs` has
// not one value per vCPU.
BootPlan plan_boot(const Image& image, const MemoryMap& map, byte_view initrd, std::span<const std::uint64_t> mpidrs);

}  // namespace ktstr::vmm::aarch64
