// The zero page: Linux's struct boot_params (Documentation/arch/x86/
// zero-page.rst), which RSI points at when the 64-bit entry runs.
//
// It holds the kernel's own setup header (copied from the bzImage, then the
// loader's fields filled in), the E820 table, and where we put the command
// line, the initrd and the ACPI RSDP. Everything else stays zero, including
// the sentinel byte at 0x1EF, which tells the kernel the loader cleared the
// page before copying the header in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/bzimage.hpp"
#include "arch/x86_64/e820.hpp"
#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64 {

// boot_params offsets outside the setup header.
namespace zero_page {
inline constexpr std::size_t size = 0x1000;
inline constexpr std::size_t acpi_rsdp_addr = 0x070;
inline constexpr std::size_t ext_ramdisk_image = 0x0c0;
inline constexpr std::size_t ext_ramdisk_size = 0x0c4;
inline constexpr std::size_t ext_cmd_line_ptr = 0x0c8;
inline constexpr std::size_t e820_entries = 0x1e8;
inline constexpr std::size_t sentinel = 0x1ef;
inline constexpr std::size_t e820_table = 0x2d0;
inline constexpr std::size_t e820_entry_size = 20;  // addr u64, size u64, type u32, packed
static_assert(e820_table + e820_max_entries * e820_entry_size <= size);

inline constexpr std::uint8_t loader_undefined = 0xff;  // type_of_loader: no assigned id
inline constexpr std::uint16_t vid_mode_normal = 0xffff;
}  // namespace zero_page

struct BootParamsInput {
    std::vector<E820Entry> e820;     // at most e820_max_entries
    std::uint64_t cmdline_address = 0;
    std::uint32_t cmdline_length = 0;  // NUL excluded
    std::optional<GuestRange> initrd;
    std::uint64_t rsdp_address = 0;
};

// The 4 KiB zero page. Throws std::invalid_argument when the E820 table is
// too long or the command line is longer than the kernel accepts.
byte_buffer build_boot_params(const BzImage& kernel, const BootParamsInput& in);

}  // namespace ktstr::vmm::x86_64
