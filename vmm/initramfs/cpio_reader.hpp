// Reads a cpio "newc" archive (or several concatenated, as the kernel
// accepts them), possibly compressed as a whole with gzip, xz or zstd:
// what the tests use to check the builder's output, and what a user can
// use to see inside an image. Untrusted input: every field is checked
// against the data present before it is used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "initramfs/cpio_writer.hpp"

namespace ktstr::vmm::initramfs {

struct CpioEntry {
    std::string path;  // as stored: no leading '/'
    std::uint32_t mode = 0;  // S_IF* type and permission bits
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t nlink = 0;
    std::uint32_t mtime = 0;
    std::uint32_t rdev_major = 0;
    std::uint32_t rdev_minor = 0;
    byte_buffer data;  // a file's contents, a symlink's target

    bool is_directory() const noexcept;
    bool is_file() const noexcept;
    bool is_symlink() const noexcept;
    bool is_char_device() const noexcept;
    std::string text() const { return {data.begin(), data.end()}; }
};

// Parses an uncompressed archive. Throws CpioError naming the offset of
// the first thing wrong: a bad magic, a non-hex field, a name or data
// running past the end, a missing trailer.
std::vector<CpioEntry> read_cpio(byte_view archive);

// Decompresses `image` when its first bytes say so (at most
// `max_unpacked` bytes), then read_cpio. Throws CpioError or
// CompressionError.
std::vector<CpioEntry> read_initramfs(byte_view image, std::uint64_t max_unpacked = std::uint64_t{1} << 32);

}  // namespace ktstr::vmm::initramfs
