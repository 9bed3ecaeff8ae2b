#include "arch/aarch64/boot_plan.hpp"

#include <fmt/core.h>

#include "arch/aarch64/fdt_builder.hpp"
#include "arch/aarch64/layout.hpp"

namespace ktstr::vmm::aarch64 {

std::uint64_t kernel_reserve(const Image& image) noexcept {
    const std::uint64_t need = image.header.text_offset + image.header.image_size;
    return (need + kernel_align - 1) & ~(kernel_align - 1);
}

namespace {

// The guest's page size as the Image declares it; 4 KiB when it does not say.
std::uint64_t guest_page_bytes(const Image& image) noexcept {
    switch (image.header.page_size) {
    case ImagePageSize::k16:
        return 16 * 1024;
    case ImagePageSize::k64:
        return 64 * 1024;
    default:
        return 4 * 1024;
    }
}

}  // namespace

BootPlan plan_boot(const Image& image, const MemoryMap& map, byte_view initrd, std::span<const std::uint64_t> mpidrs) {
    if (mpidrs.size() != map.cpus)
        throw LayoutError(fmt::format("{} MPIDR values for {} vCPUs", mpidrs.size(), map.cpus));
    // The guest maps the SHM region through /dev/mem in whole pages of its
    // own size: a 16K- or 64K-page kernel could not map a region aligned to
    // 4 KiB only, and the ring would be missing minutes into the run.
    if (const std::uint64_t page = guest_page_bytes(image); map.shm.start % page != 0 || map.shm.size % page != 0)
        throw LayoutError(fmt::format("the kernel Image uses {} KiB pages, but the SHM region {:#x}+{:#x} is not "
                                      "aligned to them: give --shm-size a multiple of {}K",
                                      page / 1024, map.shm.start, map.shm.size, page / 1024));
    BootPlan plan;
    // The base is 2 MiB aligned (the RAM base); the Image runs in place.
    plan.entry_ = kernel_load_address(map) + image.header.text_offset;
    const GuestRange kernel{kernel_load_address(map), kernel_reserve(image)};
    if (map.ram.empty() || !map.ram.front().contains(kernel.start) || kernel.size > map.ram.front().end() - kernel.start)
        throw LayoutError("the kernel Image does not fit in the first RAM range");
    plan.writes_.push_back({plan.entry_, image.file, "kernel"});
    if (!initrd.empty()) {
        if (!map.initrd || map.initrd->size != initrd.size())
            throw LayoutError("the initrd's size differs from the one the layout placed");
        if (map.initrd->overlaps(kernel))
            throw LayoutError("the initrd overlaps the kernel Image's RAM");
        plan.writes_.push_back({map.initrd->start, initrd, "initrd"});
    } else if (map.initrd) {
        throw LayoutError("the layout placed an initrd, but there is none");
    }
    plan.fdt_ = build_fdt(map, mpidrs);
    plan.fdt_address_ = fdt_load_address(map);
    if (GuestRange{plan.fdt_address_, fdt_max_size}.overlaps(kernel))
        throw LayoutError("the device tree's slot overlaps the kernel Image's RAM");
    plan.writes_.push_back({plan.fdt_address_, plan.fdt_, "device tree"});
    return plan;
}

}  // namespace ktstr::vmm::aarch64
