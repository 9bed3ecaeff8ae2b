// Where a running Linux guest mapped its kernel image, read from its page
// tables: with KASLR the text moves by a random multiple of 2 MiB from the
// address System.map gives, and this finds by how much, so the host can
// name where a hung guest's vCPUs were.
//
// The kernel maps its image in the top 2 GiB (from __START_KERNEL_map,
// 0xffffffff80000000) with one page-directory entry per 2 MiB, and early
// in boot (cleanup_highmap) clears the entries below _text. So the first
// present entry there is _text's page. Before that point the entries start
// at the bottom of the map and the answer is not _text: callers check it
// against System.map (an address below the link-time _text is refused).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

namespace ktstr::vmm::x86_64 {

inline constexpr std::uint64_t kernel_map_start = 0xffffffff80000000ULL;

// Reads the 8-byte little-endian value at a guest-physical address;
// nullopt when the address is not guest RAM.
using GuestPhysReader = std::function<std::optional<std::uint64_t>(std::uint64_t gpa)>;

// The virtual address of the first present 2 MiB page in the kernel image
// map, walking the tables at `cr3` (4-level, or 5-level when `five_level`,
// CR4.LA57). nullopt when a table is missing or outside guest RAM. Reads
// at most 512 page-directory entries: bounded whatever the guest wrote.
std::optional<std::uint64_t> first_kernel_image_page(const GuestPhysReader& read, std::uint64_t cr3, bool five_level);

}  // namespace ktstr::vmm::x86_64
