#include "arch/aarch64/image.hpp"

#include <fmt/core.h>

namespace ktstr::vmm::aarch64 {
namespace {

constexpr std::size_t text_offset_at = 0x08, image_size_at = 0x10, flags_at = 0x18, magic_at = 0x38;
constexpr std::uint32_t image_magic = 0x644d5241;  // "ARM\x64", little-endian
constexpr std::uint64_t flag_big_endian = 1;

}  // namespace

Image Image::parse_view(byte_view file) {
    if (file.size() < image_header_size)
        throw ImageError(fmt::format("an arm64 Image is at least {} bytes, this file has {}", image_header_size,
                                     file.size()));
    if (file.size() > image_max_size)
        throw ImageError(fmt::format("an arm64 Image of {} MiB is larger than the {} MiB we accept",
                                     file.size() >> 20, image_max_size >> 20));
    if (load_le<std::uint32_t>(file.data() + magic_at) != image_magic)
        throw ImageError("not an arm64 Image (no \"ARM\\x64\" magic at offset 0x38): a compressed vmlinuz must be "
                         "unpacked first");
    Image img;
    img.file = file;
    img.text_offset = load_le<std::uint64_t>(file.data() + text_offset_at);
    img.image_size = load_le<std::uint64_t>(file.data() + image_size_at);
    const std::uint64_t flags = load_le<std::uint64_t>(file.data() + flags_at);
    if (img.image_size == 0)
        throw ImageError("arm64 Image without an image size (a kernel older than 3.17)");
    if ((flags & flag_big_endian) != 0)
        throw ImageError("arm64 Image is big-endian");
    // The page-size field: 0 unspecified, 1 4K, 2 16K, 3 64K. Our layout
    // and device tree assume nothing of it, but KVM's stage 2 needs the
    // guest's granule to be one the host CPU has; the kernel checks that.
    if (img.text_offset >= (2ull << 20) || img.text_offset % 4096 != 0)
        throw ImageError(fmt::format("arm64 Image text_offset {:#x} is not a page inside the 2 MiB block",
                                     img.text_offset));
    if (img.image_size < file.size() || img.image_size > image_max_size)
        throw ImageError(fmt::format("arm64 Image size {:#x} does not cover its {:#x}-byte file or is above {} MiB",
                                     img.image_size, file.size(), image_max_size >> 20));
    return img;
}

}  // namespace ktstr::vmm::aarch64
