// Assembling the boot: which bytes go where, checked against the map.
#include "arch/x86_64/boot_plan.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "arch/x86_64/boot_params.hpp"
#include "arch/x86_64/layout.hpp"
#include "arch/x86_64/page_tables.hpp"
#include "arch/x86_64/pvh_start_info.hpp"
#include "arch/x86_64/reset_vector.hpp"

namespace ktstr::vmm::x86_64 {
namespace {

bool inside_ram(const MemoryMap& map, const GuestRange& r) {
    return std::any_of(map.ram.begin(), map.ram.end(),
                       [&](const GuestRange& ram) { return r.start >= ram.start && r.end() <= ram.end(); });
}

std::string mib_text(std::uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / mib); }

void check_kernel_fits(const GuestRange& k, const MemoryMap& map) {
    if (!inside_ram(map, k))
        throw LayoutError(fmt::format("the kernel needs {} of RAM at {:#x} (its init_size) but guest RAM there ends "
                                      "sooner; raise --memory",
                                      mib_text(k.size), k.start));
}

void check_initrd(const GuestRange& kernel, std::uint64_t initrd_addr_max, const MemoryMap& map, byte_view initrd) {
    if (!map.initrd) {
        if (!initrd.empty())
            throw LayoutError("an initrd was given but the memory map has no place for it");
        return;
    }
    const GuestRange& r = *map.initrd;
    if (r.size != initrd.size())
        throw LayoutError(fmt::format("initrd is {} bytes but the memory map placed {}", initrd.size(), r.size));
    if (!inside_ram(map, r))
        throw LayoutError(fmt::format("initrd at {:#x} is not inside guest RAM", r.start));
    if (r.end() - 1 > initrd_addr_max)
        throw LayoutError(fmt::format("initrd ends at {:#x}, above this kernel's initrd_addr_max {:#x}", r.end(),
                                      initrd_addr_max));
    if (r.overlaps(kernel))
        throw LayoutError(fmt::format("initrd at {:#x} overlaps the kernel at {:#x}; raise --memory", r.start,
                                      kernel.start));
}

void check_disjoint(std::vector<GuestWrite> writes, const MemoryMap& map) {
    std::sort(writes.begin(), writes.end(),
              [](const GuestWrite& a, const GuestWrite& b) { return a.address < b.address; });
    for (std::size_t i = 0; i < writes.size(); ++i) {
        const GuestRange r{writes[i].address, writes[i].bytes.size()};
        if (!inside_ram(map, r))
            throw LayoutError(fmt::format("{} at {:#x} is not inside guest RAM", writes[i].what, r.start));
        if (i + 1 < writes.size() && r.end() > writes[i + 1].address)
            throw LayoutError(fmt::format("{} at {:#x} overlaps {} at {:#x}", writes[i].what, r.start,
                                          writes[i + 1].what, writes[i + 1].address));
    }
}

}  // namespace

BootPlan plan_boot(const BzImage& kernel, const MemoryMap& map, byte_view initrd) {
    return plan_boot(kernel, map, initrd, CpuTopology::flat(map.cpus));
}

BootPlan BootPlan::common(const MemoryMap& map, byte_view initrd, const CpuTopology& topology) {
    BootPlan plan;
    plan.e820_ = build_e820(map);
    plan.acpi_ = acpi::build_acpi_tables(map, topology);
    plan.gdt_ = build_boot_gdt();
    plan.reset_vector_ = build_reset_vector();
    plan.cmdline_.assign(map.cmdline.begin(), map.cmdline.end());
    plan.cmdline_.push_back(0);
    plan.writes_ = {
        {boot_gdt_address, plan.gdt_, "GDT"},
        {cmdline_address, plan.cmdline_, "command line"},
        {plan.acpi_.address, plan.acpi_.bytes, "ACPI tables"},
        {reset_vector_address, plan.reset_vector_, "reset vector"},
    };
    if (map.initrd)
        plan.writes_.push_back({map.initrd->start, initrd, "initrd"});
    return plan;
}

BootPlan plan_boot(const BzImage& kernel, const MemoryMap& map, byte_view initrd, const CpuTopology& topology) {
    check_kernel_fits(kernel.load_range(), map);
    check_initrd(kernel.load_range(), kernel.initrd_addr_max(), map, initrd);
    if (map.cmdline.size() >= cmdline_window)
        throw LayoutError(fmt::format("kernel command line is {} bytes; at most {} fit", map.cmdline.size(),
                                      cmdline_window - 1));

    BootPlan plan = BootPlan::common(map, initrd, topology);
    plan.page_tables_ = build_identity_page_tables();
    plan.zero_page_ = build_boot_params(kernel, {.e820 = plan.e820_,
                                                 .cmdline_address = cmdline_address,
                                                 .cmdline_length = static_cast<std::uint32_t>(map.cmdline.size()),
                                                 .initrd = map.initrd,
                                                 .rsdp_address = plan.acpi_.rsdp_address});
    plan.cpu_ = boot_cpu_state(kernel.entry_64());
    plan.writes_.push_back({zero_page_address, plan.zero_page_, "zero page"});
    plan.writes_.push_back({page_tables_address, plan.page_tables_, "page tables"});
    plan.writes_.push_back({kernel.load_address(), kernel.kernel(), "kernel"});
    check_disjoint(plan.writes_, map);
    return plan;
}

BootPlan plan_boot(const Vmlinux& kernel, const MemoryMap& map, byte_view initrd, const CpuTopology& topology) {
    check_kernel_fits(kernel.load_range(), map);
    // The module list holds a 64-bit address, but Linux copies it into
    // its boot_params' 32-bit ramdisk_image: below 4 GiB.
    check_initrd(kernel.load_range(), 0xffff'ffff, map, initrd);
    if (map.cmdline.size() >= pvh_cmdline_max)
        throw LayoutError(fmt::format("kernel command line is {} bytes; at most {} fit", map.cmdline.size(),
                                      pvh_cmdline_max - 1));

    BootPlan plan = BootPlan::common(map, initrd, topology);
    plan.pvh_start_info_ = build_pvh_start_info({.memory_map = plan.e820_,
                                                 .cmdline_address = cmdline_address,
                                                 .initrd = map.initrd,
                                                 .rsdp_address = plan.acpi_.rsdp_address},
                                                pvh_start_info_address);
    plan.cpu_ = pvh_cpu_state(kernel.pvh_entry(), pvh_start_info_address);
    plan.writes_.push_back({pvh_start_info_address, plan.pvh_start_info_, "PVH start info"});
    // .bss beyond a segment's file bytes is left as it is: fresh guest RAM
    // reads as zeros.
    for (const VmlinuxSegment& seg : kernel.segments())
        if (!seg.bytes.empty())
            plan.writes_.push_back({seg.address, seg.bytes, "kernel segment"});
    check_disjoint(plan.writes_, map);
    return plan;
}

}  // namespace ktstr::vmm::x86_64
