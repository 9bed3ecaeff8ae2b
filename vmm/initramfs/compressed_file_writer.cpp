#include "initramfs/compressed_file_writer.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>
#include <zlib.h>
#include <zstd.h>

namespace ktstr::vmm::initramfs {

// One of: nothing (plain file), a deflate stream with a gzip wrapper, a
// zstd compression context.
struct CompressedFileWriter::Codec {
    Compression kind = Compression::none;
    z_stream z{};
    bool z_open = false;
    ZSTD_CCtx* zstd = nullptr;
    byte_buffer out = byte_buffer(1 << 17);

    ~Codec() {
        if (z_open)
            deflateEnd(&z);
        ZSTD_freeCCtx(zstd);
    }
};

CompressedFileWriter::CompressedFileWriter(const std::filesystem::path& path, Compression c)
    : path_(path), codec_(std::make_unique<Codec>()) {
    if (c == Compression::xz)
        throw std::invalid_argument("xz images are not written; use gzip or zstd");
    codec_->kind = c;
    if (c == Compression::gzip) {
        // windowBits 15 + 16: a gzip header and trailer, as the kernel's
        // gunzip expects. Level 6: most of level 9's ratio at a third of
        // its time.
        if (deflateInit2(&codec_->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            throw std::runtime_error("zlib: deflateInit2 failed");
        codec_->z_open = true;
    } else if (c == Compression::zstd) {
        codec_->zstd = ZSTD_createCCtx();
        if (!codec_->zstd)
            throw std::runtime_error("zstd: cannot create a context");
        // Level 9 with a window of 8 MiB at most: the kernel's unzstd
        // allocates the frame's window and handles up to 128 MiB, and
        // boot-time decompression prefers a small one.
        ZSTD_CCtx_setParameter(codec_->zstd, ZSTD_c_compressionLevel, 9);
        ZSTD_CCtx_setParameter(codec_->zstd, ZSTD_c_windowLog, 23);
        ZSTD_CCtx_setParameter(codec_->zstd, ZSTD_c_checksumFlag, 1);
    }
    fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd_)
        throw std::runtime_error(fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
}

CompressedFileWriter::~CompressedFileWriter() = default;

void CompressedFileWriter::put(const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd_.get(), p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            throw std::runtime_error(fmt::format("{}: write failed: {}", path_.string(), std::strerror(errno)));
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void CompressedFileWriter::write(byte_view bytes) {
    if (finished_)
        throw std::logic_error("CompressedFileWriter: write after finish");
    auto& c = *codec_;
    switch (c.kind) {
    case Compression::none:
        put(bytes.data(), bytes.size());
        return;
    case Compression::gzip:
        while (!bytes.empty()) {
            const auto now = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1u << 30));
            c.z.next_in = const_cast<Bytef*>(bytes.data());
            c.z.avail_in = now;
            do {
                c.z.next_out = c.out.data();
                c.z.avail_out = static_cast<uInt>(c.out.size());
                if (deflate(&c.z, Z_NO_FLUSH) == Z_STREAM_ERROR)
                    throw std::runtime_error("zlib: deflate failed");
                put(c.out.data(), c.out.size() - c.z.avail_out);
            } while (c.z.avail_out == 0);
            bytes = bytes.subspan(now);
        }
        return;
    case Compression::zstd: {
        ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
        while (in.pos < in.size) {
            ZSTD_outBuffer o{c.out.data(), c.out.size(), 0};
            const auto r = ZSTD_compressStream2(c.zstd, &o, &in, ZSTD_e_continue);
            if (ZSTD_isError(r))
                throw std::runtime_error(fmt::format("zstd: {}", ZSTD_getErrorName(r)));
            put(c.out.data(), o.pos);
        }
        return;
    }
    case Compression::xz: break;
    }
}

void CompressedFileWriter::finish() {
    if (finished_)
        return;
    finished_ = true;
    auto& c = *codec_;
    if (c.kind == Compression::gzip) {
        c.z.next_in = nullptr;
        c.z.avail_in = 0;
        int rc = Z_OK;
        while (rc != Z_STREAM_END) {
            c.z.next_out = c.out.data();
            c.z.avail_out = static_cast<uInt>(c.out.size());
            rc = deflate(&c.z, Z_FINISH);
            if (rc == Z_STREAM_ERROR)
                throw std::runtime_error("zlib: deflate failed");
            put(c.out.data(), c.out.size() - c.z.avail_out);
        }
    } else if (c.kind == Compression::zstd) {
        ZSTD_inBuffer in{nullptr, 0, 0};
        std::size_t left = 1;
        while (left != 0) {
            ZSTD_outBuffer o{c.out.data(), c.out.size(), 0};
            left = ZSTD_compressStream2(c.zstd, &o, &in, ZSTD_e_end);
            if (ZSTD_isError(left))
                throw std::runtime_error(fmt::format("zstd: {}", ZSTD_getErrorName(left)));
            put(c.out.data(), o.pos);
        }
    }
    if (::fsync(fd_.get()) != 0 && errno != EINVAL)
        throw std::runtime_error(fmt::format("{}: fsync: {}", path_.string(), std::strerror(errno)));
    if (::close(fd_.release()) != 0)
        throw std::runtime_error(fmt::format("{}: close: {}", path_.string(), std::strerror(errno)));
}

}  // namespace ktstr::vmm::initramfs
