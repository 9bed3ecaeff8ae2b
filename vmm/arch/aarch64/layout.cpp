// layout_aarch64: from a few sizes to the guest-physical map of one VM.
#include "arch/aarch64/layout.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/core.h>

#include "ktstr/common/kernel_cmdline_params.hpp"

namespace ktstr::vmm::aarch64 {
namespace {

constexpr std::uint64_t align_down(std::uint64_t v, std::uint64_t a) noexcept { return v & ~(a - 1); }

std::string mib_text(std::uint64_t bytes) {
    if (bytes % mib == 0)
        return fmt::format("{} MiB", bytes / mib);
    return fmt::format("{} bytes", bytes);
}

void check_request(const LayoutRequestAarch64& req) {
    if (req.cpus == 0)
        throw LayoutError("cpus must be at least 1");
    if (req.cpus > max_cpus)
        throw LayoutError(fmt::format("{} cpus do not fit: the GIC redistributor window at {:#x} holds {} "
                                      "(128 KiB each)",
                                      req.cpus, gic_redist_base, max_cpus));
    if (req.memory_bytes == 0 || req.memory_bytes % page_size != 0)
        throw LayoutError(fmt::format("guest memory ({} bytes) must be a non-zero multiple of 4096", req.memory_bytes));
    if (req.memory_bytes > max_guest_phys - ram_base)
        throw LayoutError(fmt::format("guest memory ({}) does not fit below the 40-bit guest-physical limit "
                                      "(at most {} above the RAM base {:#x})",
                                      mib_text(req.memory_bytes), mib_text(max_guest_phys - ram_base), ram_base));
    if (req.shm_bytes == 0 || req.shm_bytes % page_size != 0)
        throw LayoutError(fmt::format("SHM size ({} bytes) must be a non-zero multiple of 4096", req.shm_bytes));
    if (req.shm_bytes >= req.memory_bytes)
        throw LayoutError(fmt::format("SHM size ({}) must be smaller than guest memory ({})", mib_text(req.shm_bytes),
                                      mib_text(req.memory_bytes)));
    if (req.kernel_reserve == 0 || req.kernel_reserve % kernel_align != 0)
        throw LayoutError(fmt::format("kernel reserve ({} bytes) must be a non-zero multiple of 2 MiB",
                                      req.kernel_reserve));
    if (req.virtio_devices > virtio_mmio_slots)
        throw LayoutError(fmt::format("{} virtio devices requested, only {} virtio-mmio slots", req.virtio_devices,
                                      virtio_mmio_slots));
}

// The caller's part must not carry what the VMM owns: the guest reads the
// first KTSTR_SHM_BASE it finds, so a stale one would win. The guest
// init's KTSTR_INIT_* options are the caller's to set, as on x86_64.
void check_cmdline_extra(std::string_view cmdline) {
    if (cmdline.find('\0') != std::string_view::npos)
        throw LayoutError("kernel command line contains a NUL byte");
    std::size_t i = 0;
    while (i < cmdline.size()) {
        while (i < cmdline.size() && std::isspace(static_cast<unsigned char>(cmdline[i])))
            ++i;
        std::size_t start = i;
        while (i < cmdline.size() && !std::isspace(static_cast<unsigned char>(cmdline[i])))
            ++i;
        auto token = cmdline.substr(start, i - start);
        if (cmdline_params::sets_vmm_param(token))
            throw LayoutError(fmt::format("kernel command line must not set {}: the VMM adds the KTSTR_* parameters",
                                          token));
    }
}

// KTSTR_* go before the extra part: anything after a "--" there is init's
// argv, not the kernel's.
std::string full_cmdline(const std::string& extra, const GuestRange& shm) {
    check_cmdline_extra(extra);
    std::string s = fmt::format("{} {} {}={:#x}", base_cmdline, cmdline_params::format_vmm_params({shm.start, shm.size}),
                                cmdline_params::boot_mark_key, boot_timer_address);
    if (!extra.empty()) {
        s.push_back(' ');
        s += extra;
    }
    if (s.size() >= cmdline_max)
        throw LayoutError(fmt::format("kernel command line is {} bytes with the KTSTR_* parameters; the arm64 "
                                      "kernel takes at most {}",
                                      s.size(), cmdline_max - 1));
    return s;
}

}  // namespace

MemoryMap layout_aarch64(const LayoutRequestAarch64& req) {
    check_request(req);
    MemoryMap map;
    map.cpus = req.cpus;

    // SHM at the top of the slot: the RAM below it stays one range, and the
    // region's address depends only on the slot size and its own size.
    const std::uint64_t slot_end = ram_base + req.memory_bytes;
    map.shm = {slot_end - req.shm_bytes, req.shm_bytes};
    const std::uint64_t ram_end = map.shm.start;
    map.ram.push_back({ram_base, ram_end - ram_base});

    // The DTB's 2 MiB slot sits at the top of RAM, below the SHM region,
    // so its block mapping never covers SHM pages.
    const std::uint64_t kernel_end = ram_base + req.kernel_reserve;
    const std::uint64_t fdt_slot_end = align_down(ram_end, fdt_max_size);
    if (fdt_slot_end < kernel_end + fdt_max_size)
        throw LayoutError(fmt::format("guest memory too small: {} of RAM below the SHM region cannot hold the "
                                      "kernel reserve ({}) and the 2 MiB device tree slot",
                                      mib_text(ram_end - ram_base), mib_text(req.kernel_reserve)));
    const std::uint64_t fdt = fdt_slot_end - fdt_max_size;

    // The initrd goes as high as it may: just below the DTB, but inside the
    // 32 GiB window that starts at the (1 GiB-aligned) RAM base and covers
    // the kernel, and above the kernel reserve.
    if (req.initrd_bytes != 0) {
        const std::uint64_t top = std::min(fdt, ram_base + initrd_window);
        if (req.initrd_bytes > top - kernel_end)
            throw LayoutError(fmt::format("initrd of {} bytes does not fit: {} bytes are free between the kernel "
                                          "reserve and the device tree",
                                          req.initrd_bytes, top - kernel_end));
        const std::uint64_t start = align_down(top - req.initrd_bytes, page_size);
        map.initrd = GuestRange{start, req.initrd_bytes};
    }

    for (std::uint32_t i = 0; i < req.virtio_devices; ++i)
        map.mmio.push_back({fmt::format("virtio-mmio.{}", i),
                            {virtio_mmio_base + std::uint64_t{i} * virtio_mmio_size, virtio_mmio_size},
                            virtio_first_spi + i});

    map.cmdline = full_cmdline(req.cmdline_extra, map.shm);
    return map;
}

std::uint64_t kernel_load_address(const MemoryMap& map) {
    if (map.ram.empty())
        throw LayoutError("memory map has no RAM");
    return map.ram.front().start;
}

std::uint64_t fdt_load_address(const MemoryMap& map) {
    if (map.ram.empty())
        throw LayoutError("memory map has no RAM");
    const GuestRange& last = map.ram.back();
    const std::uint64_t slot_end = align_down(last.end(), fdt_max_size);
    if (slot_end < last.start + fdt_max_size)
        throw LayoutError("the last RAM range has no 2 MiB-aligned slot for the device tree");
    return slot_end - fdt_max_size;
}

}  // namespace ktstr::vmm::aarch64
