// arm64 kernel files on the host. The VMM boots an uncompressed Image
// (arch/aarch64/image.hpp); a Debian arm64 package's boot/vmlinuz-R is
// either that Image already (bookworm's 6.1 kernels: an Image with its EFI
// stub, 27 MiB) or the Image gzip-compressed (Image.gz), which fetch
// unpacks once, with zlib, into boot/Image-R.
#pragma once

#include <filesystem>
#include <string>

#include "kernel/kernel_arch.hpp"

namespace ktstr::vmm::kernel {

// arm64 when `file` starts with an arm64 Image header or is gzip data (no
// x86_64 kernel file is), else x86_64; x86_64 too when it cannot be read.
KernelArch kernel_file_arch(const std::filesystem::path& file);

// The Image to boot for boot_dir/vmlinuz-<release>: the vmlinuz itself
// when it is an Image, else boot_dir/Image-<release> unpacked from its
// gzip data (written whole: a temporary file renamed into place; at most
// max_image_bytes). Checks the Image's header. Throws std::runtime_error
// with a one-line reason.
// Whether `file` starts with an arm64 Image header: an uncompressed Image
// the VMM can boot (an Image.gz cannot be).
bool is_arm64_image_file(const std::filesystem::path& file);

// What boots for a Debian-style boot/vmlinuz-<release>: the Image that
// bootable_arm64_image() unpacked beside it, boot/Image-<release>, when
// there is one (written whole, by rename); else the vmlinuz itself.
std::filesystem::path boot_image_beside(const std::filesystem::path& vmlinuz, const std::string& release);

std::filesystem::path bootable_arm64_image(const std::filesystem::path& boot_dir, const std::string& release);

}  // namespace ktstr::vmm::kernel
