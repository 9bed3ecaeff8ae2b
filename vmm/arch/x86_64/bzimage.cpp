// Parsing and validating a bzImage's setup header.
#include "arch/x86_64/bzimage.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include <fmt/core.h>

#include "arch/x86_64/layout.hpp"

namespace ktstr::vmm::x86_64 {
namespace {

namespace sh = setup_header;

constexpr std::size_t sector_size = 512;
constexpr std::uint8_t default_setup_sects = 4;  // what setup_sects 0 means
// Bounds for values we add and compare: far above any real kernel, far
// below overflow.
constexpr std::uint64_t max_kernel_alignment = 1 * gib;
constexpr std::uint64_t max_init_size = 1 * gib;
constexpr std::uint64_t max_load_end = 4 * gib;

template <typename T>
T field(byte_view f, std::size_t offset) {
    return load_le<T>(f.data() + offset);
}

}  // namespace

BzImage BzImage::parse(byte_buffer file) {
    BzImage k = parse_view(file);
    k.owned_ = std::move(file);  // same storage: k.file_ still views it
    return k;
}

BzImage BzImage::parse_view(byte_view file) {
    if (file.size() < sh::end_min)
        throw BzImageError(fmt::format("not a bzImage: {} bytes, shorter than a setup header", file.size()));
    if (field<std::uint16_t>(file, sh::boot_flag) != sh::boot_flag_value ||
        field<std::uint32_t>(file, sh::header) != sh::header_magic)
        throw BzImageError("not a bzImage: no 0xAA55 boot flag and \"HdrS\" setup header magic");

    SetupHeader h;
    h.version = field<std::uint16_t>(file, sh::version);
    if (h.version < sh::min_version)
        throw BzImageError(fmt::format("bzImage boot protocol {}.{:02} is too old: 2.12 or later is needed for the "
                                       "64-bit entry point",
                                       h.version >> 8, h.version & 0xff));
    // The header ends where the jump at 0x200 lands.
    const std::size_t header_end = sh::jump + 2 + file[sh::jump + 1];
    if (header_end < sh::end_min)
        throw BzImageError(fmt::format("bzImage setup header ends at {:#x}, before init_size", header_end));

    h.setup_sects = file[sh::setup_sects] == 0 ? default_setup_sects : file[sh::setup_sects];
    h.syssize = field<std::uint32_t>(file, sh::syssize);
    h.loadflags = file[sh::loadflags];
    h.initrd_addr_max = field<std::uint32_t>(file, sh::initrd_addr_max);
    h.kernel_alignment = field<std::uint32_t>(file, sh::kernel_alignment);
    h.relocatable = file[sh::relocatable_kernel] != 0;
    h.xloadflags = field<std::uint16_t>(file, sh::xloadflags);
    h.cmdline_size = field<std::uint32_t>(file, sh::cmdline_size);
    h.pref_address = field<std::uint64_t>(file, sh::pref_address);
    h.init_size = field<std::uint32_t>(file, sh::init_size);

    if ((h.xloadflags & sh::xlf_kernel_64) == 0)
        throw BzImageError("bzImage has no 64-bit entry point (XLF_KERNEL_64 clear): not an x86_64 kernel");
    if ((h.loadflags & sh::loaded_high) == 0)
        throw BzImageError("bzImage is a zImage (LOADED_HIGH clear): it must load at 1 MiB or above");

    const std::size_t setup_size = (std::size_t{h.setup_sects} + 1) * sector_size;
    if (header_end > setup_size)
        throw BzImageError(fmt::format("bzImage setup header ends at {:#x}, beyond its {} setup bytes", header_end,
                                       setup_size));
    if (file.size() <= setup_size)
        throw BzImageError(fmt::format("bzImage truncated: {} bytes, its setup alone takes {}", file.size(),
                                       setup_size));
    const std::uint64_t kernel_size = file.size() - setup_size;
    if (h.syssize == 0 || std::uint64_t{h.syssize} * 16 > kernel_size)
        throw BzImageError(fmt::format("bzImage truncated: the header announces {} bytes of kernel, the file has {}",
                                       std::uint64_t{h.syssize} * 16, kernel_size));
    if (!std::has_single_bit(h.kernel_alignment) || h.kernel_alignment < page_size ||
        h.kernel_alignment > max_kernel_alignment)
        throw BzImageError(fmt::format("bzImage kernel_alignment {:#x} is not a power of two in [4 KiB, 1 GiB]",
                                       h.kernel_alignment));
    if (h.init_size == 0 || h.init_size > max_init_size)
        throw BzImageError(fmt::format("bzImage init_size {:#x} is not in (0, 1 GiB]", h.init_size));

    // A relocatable kernel may sit at any aligned address, but its
    // decompressor moves below-pref_address loads up to it anyway; a fixed
    // one must sit there. Both end up at pref_address.
    if (h.pref_address > max_load_end)
        throw BzImageError(fmt::format("bzImage pref_address {:#x} is above 4 GiB", h.pref_address));
    std::uint64_t load = h.pref_address;
    if (h.relocatable)
        load = (std::max(load, high_memory_start) + h.kernel_alignment - 1) & ~std::uint64_t{h.kernel_alignment - 1};
    if (load < high_memory_start || load > max_load_end ||
        load + std::max<std::uint64_t>(h.init_size, kernel_size) > max_load_end)
        throw BzImageError(fmt::format("bzImage pref_address {:#x} with init_size {:#x} is not between 1 MiB and 4 GiB",
                                       h.pref_address, h.init_size));
    return BzImage(file, h, std::min(header_end, sh::end_max), setup_size, load);
}

BzImage BzImage::read(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        throw BzImageError(fmt::format("cannot read kernel {}: {}", path.string(), ec.message()));
    if (size > max_file_size)
        throw BzImageError(fmt::format("kernel {} is {} bytes; a bzImage is at most {}", path.string(), size,
                                       max_file_size));
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BzImageError(fmt::format("cannot read kernel {}: {}", path.string(), std::strerror(errno)));
    byte_buffer bytes(size);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (static_cast<std::uint64_t>(in.gcount()) != size)
        throw BzImageError(fmt::format("cannot read kernel {}: short read", path.string()));
    try {
        return parse(std::move(bytes));
    } catch (const BzImageError& e) {
        throw BzImageError(fmt::format("kernel {}: {}", path.string(), e.what()));
    }
}

byte_view BzImage::payload() const noexcept {
    const byte_view k = kernel();
    const std::uint64_t offset = field<std::uint32_t>(file_, setup_header::payload_offset);
    const std::uint64_t length = field<std::uint32_t>(file_, setup_header::payload_length);
    if (header_end_ < setup_header::payload_length + 4 || offset > k.size() || length > k.size() - offset)
        return {};
    return k.subspan(offset, length);
}

byte_view BzImage::setup_header_bytes() const noexcept {
    return file_.subspan(setup_header::start, header_end_ - setup_header::start);
}

byte_view BzImage::kernel() const noexcept { return file_.subspan(setup_size_); }

GuestRange BzImage::load_range() const noexcept {
    return {load_address_, std::max<std::uint64_t>(header_.init_size, file_.size() - setup_size_)};
}

}  // namespace ktstr::vmm::x86_64
