// An arm64 kernel Image and its 64-byte header (Linux arm64 boot protocol,
// Documentation/arch/arm64/booting.rst):
//
//   0x00  code0, code1     (an EFI stub's "MZ" when CONFIG_EFI)
//   0x08  text_offset      the image goes this far past a 2 MiB aligned base
//   0x10  image_size       bytes the running kernel occupies from there (bss included)
//   0x18  flags            bit 0: big-endian; bits 1-2: page size; bit 3: placement anywhere
//   0x20  res2..res4
//   0x38  magic            "ARM\x64"
//   0x3c  res5             (the PE header's offset with an EFI stub)
//
// All fields little-endian. Accepted: a little-endian kernel with a non-zero
// image_size (kernels since 3.17; older ones leave the size unknown, and
// the loader could not tell how much room the bss needs), a text_offset
// within the 2 MiB alignment, an image_size no larger than max_image_bytes
// and no smaller than the file.
#pragma once

#include <cstdint>
#include <stdexcept>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::aarch64 {

// A file that is not an arm64 Image we can boot; a one-line message.
struct ImageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

inline constexpr std::size_t image_header_bytes = 64;
inline constexpr std::size_t image_magic_offset = 0x38;
inline constexpr std::uint32_t image_magic = 0x644d5241;  // "ARM\x64", read little-endian
// The bound on an Image's size in memory, and so on the file: far above
// any distribution kernel (Debian's cloud-arm64 6.1 is 27 MiB).
inline constexpr std::uint64_t max_image_bytes = 256ULL << 20;

enum class ImagePageSize { unspecified, k4, k16, k64 };

struct ImageHeader {
    std::uint64_t text_offset = 0;  // load address = 2 MiB aligned base + text_offset
    std::uint64_t image_size = 0;   // room from the load address: the file plus its bss
    std::uint64_t flags = 0;
    ImagePageSize page_size = ImagePageSize::unspecified;
    // Bit 3: the base may be anywhere in RAM; clear, it should be as low
    // in RAM as possible (the kernel may not see memory below it).
    bool place_anywhere = false;
    // Bytes to copy into guest memory: the whole file. The rest of
    // image_size (the bss) must be left free, and the kernel zeroes it.
    std::uint64_t load_bytes = 0;
};

// True when `file` starts with an arm64 Image header (the magic alone), to
// tell an Image from other kernel files before parsing it.
bool is_arm64_image(byte_view file) noexcept;

// Parses and checks the header of the Image `file` (the whole file, so
// that its size is checked against image_size). Throws ImageError.
ImageHeader parse_image(byte_view file);

// An Image file as the VMM boots it: the bytes (a view: the owner keeps
// them) and their checked header.
struct Image {
    byte_view file;
    ImageHeader header;

    // parse_image() over `file`, kept with it. Throws ImageError.
    static Image parse_view(byte_view file) { return {file, parse_image(file)}; }
};

}  // namespace ktstr::vmm::aarch64
