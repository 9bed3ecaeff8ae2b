// layout_x86_64: from a few sizes to the guest-physical map of one VM.
#include "arch/x86_64/layout.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/core.h>

#include "ktstr/common/kernel_cmdline_params.hpp"

namespace ktstr::vmm::x86_64 {
namespace {

constexpr std::uint64_t align_down(std::uint64_t v, std::uint64_t a) noexcept { return v & ~(a - 1); }
constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) noexcept { return align_down(v + a - 1, a); }

std::string size_text(std::uint64_t bytes) {
    if (bytes % mib == 0)
        return fmt::format("{} MiB", bytes / mib);
    return fmt::format("{} bytes", bytes);
}

void check_request(const LayoutRequest& req) {
    if (req.cpus == 0)
        throw LayoutError("cpus must be at least 1");
    if (req.cpus > max_cpus)
        throw LayoutError(fmt::format("{} cpus requested; at most {} (local APIC ids 0..{} in the MADT)", req.cpus,
                                      max_cpus, max_cpus - 1));
    if (req.topology) {
        try {
            check_topology(*req.topology);
        } catch (const std::invalid_argument& e) {
            throw LayoutError(e.what());
        }
        if (req.topology->cpus() != req.cpus)
            throw LayoutError(fmt::format("{} cpus requested but the topology makes {}", req.cpus,
                                          req.topology->cpus()));
    }
    if (req.memory_bytes % page_size != 0)
        throw LayoutError(fmt::format("guest memory ({} bytes) must be a multiple of 4096", req.memory_bytes));
    if (req.memory_bytes < min_memory)
        throw LayoutError(fmt::format("guest memory ({}) is below the minimum of {}", size_text(req.memory_bytes),
                                      size_text(min_memory)));
    if (req.memory_bytes > max_memory)
        throw LayoutError(fmt::format("guest memory ({}) is above the maximum of {}", size_text(req.memory_bytes),
                                      size_text(max_memory)));
    if (req.shm_bytes == 0 || req.shm_bytes % page_size != 0)
        throw LayoutError(fmt::format("SHM size ({} bytes) must be a non-zero multiple of 4096", req.shm_bytes));
    if (req.shm_bytes >= req.memory_bytes)
        throw LayoutError(fmt::format("SHM size ({}) must be smaller than guest memory ({})",
                                      size_text(req.shm_bytes), size_text(req.memory_bytes)));
    // At least 64 MiB of RAM must precede the region, all below 3 GiB.
    if (req.shm_bytes > mmio_hole_start - shm_alignment)
        throw LayoutError(fmt::format("SHM size ({}) too large: at most {} fits below the 3 GiB MMIO hole after "
                                      "64 MiB of RAM",
                                      size_text(req.shm_bytes), size_text(mmio_hole_start - shm_alignment)));
    if (req.memory_bytes - req.shm_bytes < shm_alignment)
        throw LayoutError(fmt::format("SHM size ({}) leaves {} of RAM; at least {} must remain",
                                      size_text(req.shm_bytes), size_text(req.memory_bytes - req.shm_bytes),
                                      size_text(shm_alignment)));
    if (const std::uint32_t nodes = req.topology ? req.topology->nodes : 1;
        (req.memory_bytes - req.shm_bytes) / nodes < min_node_memory)
        throw LayoutError(fmt::format("{} of RAM gives {} NUMA nodes less than {} each",
                                      size_text(req.memory_bytes - req.shm_bytes), nodes,
                                      size_text(min_node_memory)));
    if (req.virtio_devices > virtio_max_devices)
        throw LayoutError(fmt::format("{} virtio devices requested; at most {} (IOAPIC pins {}..{})",
                                      req.virtio_devices, virtio_max_devices, virtio_first_gsi, ioapic_pins - 1));
    if (req.initrd_addr_max < high_memory_start)
        throw LayoutError(fmt::format("initrd address limit {:#x} is below 1 MiB", req.initrd_addr_max));
}

// RAM [0, A), the SHM region at A, the rest of RAM after it: first up to
// the 3 GiB hole, then above 4 GiB. A is the highest 64 MiB boundary that
// both the RAM and the hole allow.
void place_ram_and_shm(const LayoutRequest& req, MemoryMap& map) {
    const std::uint64_t ram_total = req.memory_bytes - req.shm_bytes;
    const std::uint64_t a =
        std::min(align_down(ram_total, shm_alignment), align_down(mmio_hole_start - req.shm_bytes, shm_alignment));
    map.ram.push_back({0, a});
    map.shm = {a, req.shm_bytes};

    std::uint64_t rest = ram_total - a;
    // 2 MiB alignment so the kernel can map the remainder with large pages.
    const std::uint64_t cursor = align_up(map.shm.end(), 2 * mib);
    if (rest != 0 && cursor < mmio_hole_start) {
        const std::uint64_t low = std::min(rest, mmio_hole_start - cursor);
        map.ram.push_back({cursor, low});
        rest -= low;
    }
    if (rest != 0)
        map.ram.push_back({high_ram_start, rest});
}

// The highest page-aligned place inside RAM, above 1 MiB, below the kernel's
// limit and outside the kernel's decompression buffer.
GuestRange place_initrd(const LayoutRequest& req, const MemoryMap& map) {
    const std::uint64_t size = req.initrd_bytes;
    const std::uint64_t limit = std::min(req.initrd_addr_max, high_ram_start + max_memory) + 1;  // exclusive
    for (auto it = map.ram.rbegin(); it != map.ram.rend(); ++it) {
        const std::uint64_t lo = std::max(it->start, high_memory_start);
        std::uint64_t hi = std::min(it->end(), limit);
        for (int attempt = 0; attempt < 2 && hi > lo && hi - lo >= size; ++attempt) {
            const GuestRange candidate{align_down(hi - size, page_size), size};
            if (candidate.start < lo)
                break;
            if (!candidate.overlaps(req.kernel))
                return candidate;
            hi = std::min(hi, req.kernel.start);  // second try: just below the kernel
        }
    }
    throw LayoutError(fmt::format("initrd of {} bytes does not fit in guest RAM below {:#x} outside the kernel; "
                                  "raise --memory",
                                  size, limit));
}

// The caller's part must not carry what the VMM owns (KTSTR_GUEST,
// KTSTR_SHM_BASE, KTSTR_SHM_SIZE): the guest takes the first it finds.
void check_cmdline_extra(std::string_view extra) {
    if (extra.find('\0') != std::string_view::npos)
        throw LayoutError("kernel command line contains a NUL byte");
    std::size_t i = 0;
    while (i < extra.size()) {
        while (i < extra.size() && std::isspace(static_cast<unsigned char>(extra[i])))
            ++i;
        const std::size_t start = i;
        while (i < extra.size() && !std::isspace(static_cast<unsigned char>(extra[i])))
            ++i;
        const auto word = extra.substr(start, i - start);
        // Only the VMM's own parameters: the guest init's KTSTR_INIT_*
        // options are the caller's to set.
        if (cmdline_params::sets_vmm_param(word))
            throw LayoutError(fmt::format("kernel command line must not set {}: the VMM adds the KTSTR_* parameters",
                                          word));
    }
}

}  // namespace

// KTSTR_* go before the extra part: anything after a "--" there is init's
// argv, not its environment.
std::string guest_cmdline(std::string_view extra, const std::optional<GuestRange>& shm) {
    check_cmdline_extra(extra);
    // The boot mark goes with the SHM region: both are this VMM's, and
    // another VMM (the benchmark's QEMU) has no boot timer to write to.
    std::string s = shm ? fmt::format("{} {} {}={:#x}", base_cmdline,
                                      cmdline_params::format_vmm_params({shm->start, shm->size}),
                                      cmdline_params::boot_mark_key, boot_timer_address)
                        : fmt::format("{} {}", base_cmdline, cmdline_params::guest_word);
    if (!extra.empty()) {
        s.push_back(' ');
        s += extra;
    }
    if (s.size() >= cmdline_window)
        throw LayoutError(fmt::format("kernel command line is {} bytes; at most {} fit", s.size(),
                                      cmdline_window - 1));
    return s;
}

MemoryMap layout_x86_64(const LayoutRequest& req) {
    check_request(req);
    MemoryMap map;
    map.cpus = req.cpus;
    place_ram_and_shm(req, map);
    if (req.initrd_bytes != 0)
        map.initrd = place_initrd(req, map);
    for (std::uint32_t i = 0; i < req.virtio_devices; ++i)
        map.mmio.push_back(
            {fmt::format("virtio-mmio.{}", i), {virtio_mmio_address(i), virtio_mmio_size}, virtio_first_gsi + i});
    map.cmdline = guest_cmdline(req.cmdline_extra, map.shm);
    return map;
}

}  // namespace ktstr::vmm::x86_64
