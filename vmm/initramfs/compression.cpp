#include "initramfs/compression.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/core.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

namespace ktstr::vmm::initramfs {
namespace {

constexpr std::size_t chunk = 1 << 16;

// Grows `out` by one chunk, refusing to pass `max_output`.
std::uint8_t* grow(byte_buffer& out, std::size_t& used, std::uint64_t max_output, std::string_view what) {
    if (used >= max_output)
        throw CompressionError(fmt::format("{} data decompresses to more than {} bytes", what, max_output));
    const auto add = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, max_output - used));
    out.resize(used + add);
    return out.data() + used;
}

byte_buffer gunzip(byte_view data, std::uint64_t max_output) {
    z_stream s{};
    if (inflateInit2(&s, 15 + 32) != Z_OK)  // +32: gzip or zlib header
        throw CompressionError("zlib: inflateInit2 failed");
    struct End {
        z_stream* s;
        ~End() { inflateEnd(s); }
    } end{&s};
    byte_buffer out;
    std::size_t used = 0;
    s.next_in = const_cast<Bytef*>(data.data());
    std::size_t left_in = data.size();
    for (;;) {
        const auto in_now = static_cast<uInt>(std::min<std::size_t>(left_in, 1u << 30));
        s.avail_in = in_now;
        auto* dst = grow(out, used, max_output, "gzip");
        const auto room = out.size() - used;
        s.next_out = dst;
        s.avail_out = static_cast<uInt>(room);
        const int rc = inflate(&s, Z_NO_FLUSH);
        used += room - s.avail_out;
        left_in -= in_now - s.avail_in;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && left_in == 0)
            throw CompressionError("gzip data is truncated");
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            throw CompressionError(fmt::format("gzip data is corrupt ({})", s.msg ? s.msg : "inflate failed"));
    }
    out.resize(used);
    return out;
}

byte_buffer unxz(byte_view data, std::uint64_t max_output) {
    lzma_stream s = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
        throw CompressionError("liblzma: cannot start a decoder");
    struct End {
        lzma_stream* s;
        ~End() { lzma_end(s); }
    } end{&s};
    byte_buffer out;
    std::size_t used = 0;
    s.next_in = data.data();
    s.avail_in = data.size();
    for (;;) {
        auto* dst = grow(out, used, max_output, "xz");
        const auto room = out.size() - used;
        s.next_out = dst;
        s.avail_out = room;
        const auto rc = lzma_code(&s, LZMA_FINISH);
        used += room - s.avail_out;
        if (rc == LZMA_STREAM_END)
            break;
        if (rc == LZMA_BUF_ERROR)
            throw CompressionError("xz data is truncated");
        if (rc != LZMA_OK)
            throw CompressionError(fmt::format("xz data is corrupt (liblzma error {})", static_cast<int>(rc)));
    }
    out.resize(used);
    return out;
}

byte_buffer unzstd(byte_view data, std::uint64_t max_output) {
    ZSTD_DCtx* ctx = ZSTD_createDCtx();
    if (!ctx)
        throw CompressionError("zstd: cannot create a context");
    struct End {
        ZSTD_DCtx* c;
        ~End() { ZSTD_freeDCtx(c); }
    } end{ctx};
    byte_buffer out;
    std::size_t used = 0;
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    std::size_t last = 1;
    while (in.pos < in.size || last != 0) {
        auto* dst = grow(out, used, max_output, "zstd");
        ZSTD_outBuffer o{dst, out.size() - used, 0};
        const auto before = in.pos;
        last = ZSTD_decompressStream(ctx, &o, &in);
        if (ZSTD_isError(last))
            throw CompressionError(fmt::format("zstd data is corrupt ({})", ZSTD_getErrorName(last)));
        used += o.pos;
        if (in.pos == in.size && last != 0 && o.pos == 0 && before == in.pos)
            throw CompressionError("zstd data is truncated");
    }
    out.resize(used);
    return out;
}

}  // namespace

std::string_view compression_name(Compression c) noexcept {
    switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::xz: return "xz";
    case Compression::zstd: return "zstd";
    }
    return "none";
}

std::optional<Compression> compression_from_name(std::string_view name) noexcept {
    if (name == "none")
        return Compression::none;
    if (name == "gzip" || name == "gz")
        return Compression::gzip;
    if (name == "xz")
        return Compression::xz;
    if (name == "zstd" || name == "zst")
        return Compression::zstd;
    return std::nullopt;
}

Compression compression_of(byte_view head) noexcept {
    auto starts = [&](std::initializer_list<std::uint8_t> magic) {
        return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin());
    };
    if (starts({0x1f, 0x8b}))
        return Compression::gzip;
    if (starts({0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00}))
        return Compression::xz;
    if (starts({0x28, 0xb5, 0x2f, 0xfd}))
        return Compression::zstd;
    return Compression::none;
}

Compression compression_of_suffix(std::string_view name) noexcept {
    if (name.ends_with(".gz"))
        return Compression::gzip;
    if (name.ends_with(".xz"))
        return Compression::xz;
    if (name.ends_with(".zst"))
        return Compression::zstd;
    return Compression::none;
}

byte_buffer decompress(byte_view data, Compression c, std::uint64_t max_output) {
    switch (c) {
    case Compression::gzip: return gunzip(data, max_output);
    case Compression::xz: return unxz(data, max_output);
    case Compression::zstd: return unzstd(data, max_output);
    case Compression::none: break;
    }
    if (data.size() > max_output)
        throw CompressionError(fmt::format("data larger than {} bytes", max_output));
    return byte_buffer(data.begin(), data.end());
}

}  // namespace ktstr::vmm::initramfs
