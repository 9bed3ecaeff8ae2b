// A file written through a streaming compressor (gzip or zstd, or none):
// how an initramfs image reaches the disk without holding it in memory.
#pragma once

#include <filesystem>
#include <memory>

#include <ktstr/common/bytes.hpp>

#include "initramfs/compression.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::initramfs {

class CompressedFileWriter {
public:
    // Creates (truncates) `path`. Throws std::runtime_error when it cannot,
    // std::invalid_argument for Compression::xz (not written here: the
    // kernel's xz unpacker wants CRC32 checks and little else uses it).
    CompressedFileWriter(const std::filesystem::path& path, Compression c);
    ~CompressedFileWriter();
    CompressedFileWriter(const CompressedFileWriter&) = delete;
    CompressedFileWriter& operator=(const CompressedFileWriter&) = delete;

    void write(byte_view bytes);
    // Flushes the compressor's end of stream and syncs the file; no write
    // may follow. Throws std::runtime_error on an I/O error.
    void finish();

private:
    void put(const std::uint8_t* p, std::size_t n);

    std::filesystem::path path_;
    UniqueFd fd_;
    struct Codec;  // zlib or zstd state, kept out of this header
    std::unique_ptr<Codec> codec_;
    bool finished_ = false;
};

}  // namespace ktstr::vmm::initramfs
