// The identity page tables the 64-bit entry runs on.
//
// Four-level tables mapping guest-physical [0, 4 GiB) to the same virtual
// addresses with 2 MiB pages (1 GiB pages would need the guest's pdpe1gb
// CPUID bit): one PML4, one PDPT, four page directories, six pages in all
// at page_tables_address. That covers the kernel, the zero page, the
// command line and the initrd (all below 4 GiB) until the decompressor
// switches to its own tables.
#pragma once

#include <cstdint>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64 {

inline constexpr std::uint64_t pte_present = 1ULL << 0;
inline constexpr std::uint64_t pte_writable = 1ULL << 1;
inline constexpr std::uint64_t pte_large = 1ULL << 7;  // a 2 MiB page in a page directory
inline constexpr std::uint64_t identity_mapped_bytes = 4ULL << 30;

// page_tables_size bytes for page_tables_address (layout.hpp).
byte_buffer build_identity_page_tables();

}  // namespace ktstr::vmm::x86_64
