// The kernel an x86_64 VM boots, in either form the VMM can enter: a
// bzImage at its 64-bit entry (it decompresses itself in the guest) or an
// uncompressed vmlinux at its PVH entry (vmlinux.hpp; nothing to
// decompress, so the guest boots sooner).
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

#include "arch/x86_64/boot_plan.hpp"
#include "arch/x86_64/bzimage.hpp"
#include "arch/x86_64/layout.hpp"
#include "arch/x86_64/vmlinux.hpp"

namespace ktstr::vmm::x86_64 {

using BootKernel = std::variant<BzImage, Vmlinux>;

// RAM the kernel takes from where it is loaded.
inline GuestRange kernel_load_range(const BootKernel& k) {
    return std::visit([](const auto& image) { return image.load_range(); }, k);
}

// The highest address the initrd may reach: a bzImage's header says; for
// PVH the layout's own default (below 2 GiB; Linux keeps 32 bits of it).
inline std::uint64_t kernel_initrd_addr_max(const BootKernel& k) {
    if (const auto* b = std::get_if<BzImage>(&k))
        return b->initrd_addr_max();
    return default_initrd_addr_max;
}

// "bzImage" or "vmlinux (PVH)", for diagnostics.
inline std::string_view kernel_entry_name(const BootKernel& k) {
    return std::holds_alternative<BzImage>(k) ? "bzImage" : "vmlinux (PVH)";
}

inline BootPlan plan_boot(const BootKernel& k, const MemoryMap& map, byte_view initrd, const CpuTopology& topology) {
    return std::visit([&](const auto& image) { return plan_boot(image, map, initrd, topology); }, k);
}

}  // namespace ktstr::vmm::x86_64
