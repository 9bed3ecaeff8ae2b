// Filling struct boot_params for the 64-bit boot protocol.
#include "arch/x86_64/boot_params.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::x86_64 {
namespace {

namespace zp = zero_page;
namespace sh = setup_header;

// Addresses above 4 GiB go to the ext_* fields (protocol 2.12+ kernels read them).
void store_split(byte_buffer& page, std::size_t low, std::size_t high, std::uint64_t v) {
    store_le(page.data() + low, static_cast<std::uint32_t>(v));
    store_le(page.data() + high, static_cast<std::uint32_t>(v >> 32));
}

}  // namespace

byte_buffer build_boot_params(const BzImage& kernel, const BootParamsInput& in) {
    if (in.e820.size() > e820_max_entries)
        throw std::invalid_argument(fmt::format("{} E820 entries; the zero page holds {}", in.e820.size(),
                                                e820_max_entries));
    if (in.cmdline_length > kernel.header().cmdline_size)
        throw std::invalid_argument(fmt::format("kernel command line is {} bytes; this kernel takes at most {}",
                                                in.cmdline_length, kernel.header().cmdline_size));

    byte_buffer page(zp::size, 0);
    const byte_view hdr = kernel.setup_header_bytes();
    std::copy(hdr.begin(), hdr.end(), page.begin() + sh::start);

    store_le(page.data() + sh::vid_mode, zp::vid_mode_normal);
    page[sh::type_of_loader] = zp::loader_undefined;
    store_le(page.data() + sh::code32_start, static_cast<std::uint32_t>(kernel.load_address()));
    store_split(page, sh::cmd_line_ptr, zp::ext_cmd_line_ptr, in.cmdline_address);
    if (in.initrd) {
        store_split(page, sh::ramdisk_image, zp::ext_ramdisk_image, in.initrd->start);
        store_split(page, sh::ramdisk_size, zp::ext_ramdisk_size, in.initrd->size);
    }
    store_le(page.data() + zp::acpi_rsdp_addr, in.rsdp_address);

    page[zp::e820_entries] = static_cast<std::uint8_t>(in.e820.size());
    for (std::size_t i = 0; i < in.e820.size(); ++i) {
        std::uint8_t* at = page.data() + zp::e820_table + i * zp::e820_entry_size;
        store_le(at, in.e820[i].addr);
        store_le(at + 8, in.e820[i].size);
        store_le(at + 16, static_cast<std::uint32_t>(in.e820[i].type));
    }
    return page;
}

}  // namespace ktstr::vmm::x86_64
