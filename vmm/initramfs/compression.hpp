// Compression formats the initramfs builder meets: on kernel modules
// (.ko.gz, .ko.xz, .ko.zst) and on whole images (gzip or zstd, as the
// kernel's CONFIG_RD_GZIP / CONFIG_RD_ZSTD unpack them).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::initramfs {

enum class Compression { none, gzip, xz, zstd };

struct CompressionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// "none", "gzip", "xz", "zstd".
std::string_view compression_name(Compression c) noexcept;

// The inverse of compression_name (also "gz", "zst"); nullopt otherwise.
std::optional<Compression> compression_from_name(std::string_view name) noexcept;

// What the first bytes of a stream say it is (gzip 1f 8b, xz fd 37 7a 58
// 5a 00, zstd 28 b5 2f fd); none for anything else.
Compression compression_of(byte_view head) noexcept;

// The file name suffix of a compressed module: ".gz", ".xz", ".zst".
Compression compression_of_suffix(std::string_view file_name) noexcept;

// Decompresses a whole buffer. Throws CompressionError for corrupt or
// truncated data, or when the output would exceed `max_output` bytes.
// Compression::none returns a copy (still bounded).
byte_buffer decompress(byte_view data, Compression c, std::uint64_t max_output);

}  // namespace ktstr::vmm::initramfs
