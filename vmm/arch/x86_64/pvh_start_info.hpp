// The boot facts a PVH entry reads (Xen's public start_info.h, version 1,
// which Linux's arch/x86/platform/pvh reads when it is not on Xen): the
// command line, the initrd as the first module, the ACPI RSDP and the
// memory map. The kernel gets the structure's address in EBX.
//
// One block of bytes at pvh_start_info_address (layout.hpp): the
// hvm_start_info, then the module list, then the memory map; every pointer
// in it is a guest-physical address inside the block or given by the
// caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/e820.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64 {

inline constexpr std::uint32_t hvm_start_magic = 0x336e'c578;

struct HvmStartInfo {
    std::uint32_t magic;
    std::uint32_t version;  // 1: memmap_* are valid
    std::uint32_t flags;
    std::uint32_t nr_modules;
    std::uint64_t modlist_paddr;
    std::uint64_t cmdline_paddr;
    std::uint64_t rsdp_paddr;
    std::uint64_t memmap_paddr;
    std::uint32_t memmap_entries;
    std::uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);
static_assert(offsetof(HvmStartInfo, modlist_paddr) == 16);
static_assert(offsetof(HvmStartInfo, rsdp_paddr) == 32);
static_assert(offsetof(HvmStartInfo, memmap_entries) == 48);

struct HvmModlistEntry {
    std::uint64_t paddr;
    std::uint64_t size;
    std::uint64_t cmdline_paddr;
    std::uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);

struct HvmMemmapEntry {
    std::uint64_t addr;
    std::uint64_t size;
    std::uint32_t type;  // E820 type numbers
    std::uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);
static_assert(offsetof(HvmMemmapEntry, type) == 16);

struct PvhBootFacts {
    std::span<const E820Entry> memory_map{};  // at most e820_max_entries
    std::uint64_t cmdline_address = 0;
    std::optional<GuestRange> initrd{};
    std::uint64_t rsdp_address = 0;
};

// The largest block build_pvh_start_info returns.
inline constexpr std::size_t pvh_start_info_max_size =
    sizeof(HvmStartInfo) + sizeof(HvmModlistEntry) + e820_max_entries * sizeof(HvmMemmapEntry);

// The block for `address`; throws std::invalid_argument when the memory
// map has more than e820_max_entries entries (Linux copies them into its
// zero page's table of that size).
byte_buffer build_pvh_start_info(const PvhBootFacts& facts, std::uint64_t address);

}  // namespace ktstr::vmm::x86_64
