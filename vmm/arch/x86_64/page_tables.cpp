// PML4 -> PDPT -> 4 page directories of 2 MiB pages.
#include "arch/x86_64/page_tables.hpp"

#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64 {

byte_buffer build_identity_page_tables() {
    constexpr std::uint64_t entries = page_size / 8;
    constexpr std::uint64_t large_page = 2 * mib;
    constexpr std::uint64_t directories = identity_mapped_bytes / gib;
    static_assert((2 + directories) * page_size == page_tables_size);

    byte_buffer t(page_tables_size, 0);
    const std::uint64_t pml4 = page_tables_address;
    const std::uint64_t pdpt = pml4 + page_size;
    const std::uint64_t pd = pdpt + page_size;
    auto entry = [&](std::uint64_t table, std::uint64_t index, std::uint64_t value) {
        store_le(t.data() + (table - pml4) + index * 8, value);
    };
    entry(pml4, 0, pdpt | pte_present | pte_writable);
    for (std::uint64_t d = 0; d < directories; ++d) {
        entry(pdpt, d, (pd + d * page_size) | pte_present | pte_writable);
        for (std::uint64_t i = 0; i < entries; ++i)
            entry(pd + d * page_size, i, (d * gib + i * large_page) | pte_present | pte_writable | pte_large);
    }
    return t;
}

}  // namespace ktstr::vmm::x86_64
