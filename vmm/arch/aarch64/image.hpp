// The arm64 kernel Image (Documentation/arch/arm64/booting.rst): a 64-byte
// header, then the kernel, run in place from a 2 MiB-aligned base plus
// text_offset with image_size bytes (bss included) of RAM free from there.
//
//   0x00  code0, code1        the first two instructions
//   0x08  text_offset (LE64)  load offset from a 2 MiB-aligned base
//   0x10  image_size (LE64)   effective image size, 0 before v3.17
//   0x18  flags (LE64)        bit 0 big-endian, bits 1-2 page size, bit 3 placement
//   0x38  magic "ARM\x64"
//
// The file is not compressed: Debian's vmlinuz is a gzip of it, unpacked
// on the host by the kernel supply.
#pragma once

#include <cstdint>
#include <stdexcept>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::aarch64 {

// A file we cannot boot as an arm64 Image; one line for the user.
struct ImageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

inline constexpr std::size_t image_header_size = 64;
// Larger than any arm64 kernel (Debian's is about 40 MiB with its bss).
inline constexpr std::uint64_t image_max_size = 256ull << 20;

struct Image {
    byte_view file;                 // the whole file (a view: its owner keeps it)
    std::uint64_t text_offset = 0;  // where in its 2 MiB block the Image starts
    std::uint64_t image_size = 0;   // RAM it takes from there, bss included (>= file size)

    // Checks the header over `file` (magic, little-endian, a known page
    // size, sizes that add up); throws ImageError.
    static Image parse_view(byte_view file);
};

}  // namespace ktstr::vmm::aarch64
