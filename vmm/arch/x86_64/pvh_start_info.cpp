#include "arch/x86_64/pvh_start_info.hpp"

#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::x86_64 {
namespace {

template <typename T>
void put(byte_buffer& out, std::size_t at, const T& value) {
    std::memcpy(out.data() + at, &value, sizeof value);  // x86_64 only: the host is little-endian too
}

}  // namespace

byte_buffer build_pvh_start_info(const PvhBootFacts& facts, std::uint64_t address) {
    if (facts.memory_map.size() > e820_max_entries)
        throw std::invalid_argument(fmt::format("PVH memory map has {} entries; at most {} fit",
                                                facts.memory_map.size(), e820_max_entries));
    const std::size_t modules = facts.initrd ? 1 : 0;
    const std::size_t modlist_at = sizeof(HvmStartInfo);
    const std::size_t memmap_at = modlist_at + modules * sizeof(HvmModlistEntry);
    byte_buffer out(memmap_at + facts.memory_map.size() * sizeof(HvmMemmapEntry));

    HvmStartInfo info{};
    info.magic = hvm_start_magic;
    info.version = 1;
    info.nr_modules = static_cast<std::uint32_t>(modules);
    info.modlist_paddr = modules ? address + modlist_at : 0;
    info.cmdline_paddr = facts.cmdline_address;
    info.rsdp_paddr = facts.rsdp_address;
    info.memmap_paddr = address + memmap_at;
    info.memmap_entries = static_cast<std::uint32_t>(facts.memory_map.size());
    put(out, 0, info);
    if (facts.initrd)  // Linux takes the first module as the initrd
        put(out, modlist_at, HvmModlistEntry{facts.initrd->start, facts.initrd->size, 0, 0});
    for (std::size_t i = 0; i < facts.memory_map.size(); ++i) {
        const E820Entry& e = facts.memory_map[i];
        put(out, memmap_at + i * sizeof(HvmMemmapEntry),
            HvmMemmapEntry{e.addr, e.size, static_cast<std::uint32_t>(e.type), 0});
    }
    return out;
}

}  // namespace ktstr::vmm::x86_64
