#include "arch/aarch64/image.hpp"

#include <fmt/core.h>

namespace ktstr::vmm::aarch64 {
namespace {

constexpr std::uint64_t two_mib = 2ULL << 20;
constexpr std::uint64_t flag_big_endian = 1;
constexpr unsigned page_size_shift = 1;
constexpr std::uint64_t page_size_mask = 3;
constexpr std::uint64_t flag_place_anywhere = 1 << 3;

}  // namespace

bool is_arm64_image(byte_view file) noexcept {
    return file.size() >= image_header_bytes && load_le<std::uint32_t>(file.data() + image_magic_offset) == image_magic;
}

ImageHeader parse_image(byte_view file) {
    if (file.size() < image_header_bytes)
        throw ImageError(fmt::format("not an arm64 Image: {} bytes, shorter than its 64-byte header", file.size()));
    if (!is_arm64_image(file))
        throw ImageError("not an arm64 Image: no \"ARM\\x64\" magic at offset 0x38");
    ImageHeader h;
    h.text_offset = load_le<std::uint64_t>(file.data() + 0x08);
    h.image_size = load_le<std::uint64_t>(file.data() + 0x10);
    h.flags = load_le<std::uint64_t>(file.data() + 0x18);
    h.load_bytes = file.size();
    if (h.image_size == 0)
        throw ImageError("arm64 Image with image_size 0 (a kernel older than 3.17): its size in memory is unknown");
    if (h.flags & flag_big_endian)
        throw ImageError("arm64 Image is big-endian; only little-endian kernels boot");
    if (h.text_offset >= two_mib || h.text_offset % 4096 != 0)
        throw ImageError(fmt::format("arm64 Image text_offset {:#x} is not a 4 KiB multiple below 2 MiB", h.text_offset));
    if (h.image_size > max_image_bytes)
        throw ImageError(fmt::format("arm64 Image image_size {:#x} exceeds the {} MiB bound", h.image_size,
                                     max_image_bytes >> 20));
    if (h.load_bytes > h.image_size)
        throw ImageError(fmt::format("arm64 Image file ({} bytes) is larger than its image_size {:#x}: truncated header or not an Image",
                                     h.load_bytes, h.image_size));
    h.page_size = static_cast<ImagePageSize>((h.flags >> page_size_shift) & page_size_mask);
    h.place_anywhere = (h.flags & flag_place_anywhere) != 0;
    return h;
}

}  // namespace ktstr::vmm::aarch64
