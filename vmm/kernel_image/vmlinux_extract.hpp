// The vmlinux inside a bzImage: the payload the in-guest decompressor would
// unpack, unpacked on the host instead, so the VMM can enter the kernel
// through PVH (arch/x86_64/vmlinux.hpp) and the guest skips decompression.
//
// The payload is a compressed stream followed by the uncompressed size (4
// bytes, little-endian; the kernel's size_append); what it unpacks to is
// the stripped vmlinux ELF, then (relocatable kernels) the relocation table.
// The kernel's formats are unpacked (libarchive): lz4 (Debian's 6.1
// kernels), zstd (its 6.12 ones and `kernel build`'s), gzip, xz, lzma,
// bzip2; lzo is refused (Debian's libarchive would run lzop for it).
#pragma once

#include <stdexcept>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/bzimage.hpp"

namespace ktstr::vmm::kernel_image {

struct VmlinuxExtractError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Largest vmlinux unpacked (Debian's is about 60 MiB).
inline constexpr std::uint64_t max_vmlinux_bytes = 512ULL << 20;

// Throws VmlinuxExtractError with a one-line reason (no payload, a format
// not unpacked here, corrupt data, a size differing from the appended one).
byte_buffer extract_vmlinux(const x86_64::BzImage& kernel);

}  // namespace ktstr::vmm::kernel_image
