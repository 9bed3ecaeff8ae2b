#include "arch/x86_64/kernel_image_map.hpp"

#include "arch/x86_64/page_tables.hpp"

namespace ktstr::vmm::x86_64 {
namespace {

constexpr std::uint64_t table_address_mask = 0x000ffffffffff000ULL;  // bits 51:12

std::optional<std::uint64_t> next_table(const GuestPhysReader& read, std::uint64_t table, unsigned index) {
    const auto entry = read((table & table_address_mask) + index * 8ULL);
    if (!entry || !(*entry & pte_present) || (*entry & pte_large))
        return std::nullopt;  // a 1 GiB page here is not how Linux maps its image
    return *entry & table_address_mask;
}

unsigned index_at(std::uint64_t va, unsigned shift) { return static_cast<unsigned>((va >> shift) & 511); }

}  // namespace

std::optional<std::uint64_t> first_kernel_image_page(const GuestPhysReader& read, std::uint64_t cr3, bool five_level) {
    std::optional<std::uint64_t> table = cr3 & table_address_mask;
    if (five_level)
        table = next_table(read, *table, index_at(kernel_map_start, 48));
    if (table)
        table = next_table(read, *table, index_at(kernel_map_start, 39));  // PML4
    if (table)
        table = next_table(read, *table, index_at(kernel_map_start, 30));  // PDPT
    if (!table)
        return std::nullopt;
    for (unsigned i = 0; i < 512; ++i) {  // the page directory: 1 GiB of 2 MiB entries
        const auto entry = read(*table + i * 8ULL);
        if (!entry)
            return std::nullopt;
        if (*entry & pte_present)
            return kernel_map_start + (std::uint64_t{i} << 21);
    }
    return std::nullopt;
}

}  // namespace ktstr::vmm::x86_64
