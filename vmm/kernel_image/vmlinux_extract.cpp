#include "kernel_image/vmlinux_extract.hpp"

#include <memory>

#include <archive.h>
#include <fmt/core.h>

namespace ktstr::vmm::kernel_image {
namespace {

struct ArchiveFree {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveFree>;

}  // namespace

// libarchive reads the formats the kernel compresses its payload with
// (gzip, bzip2, lzma, xz, lz4's legacy frames, zstd; not lzo) as one raw
// stream: Debian's 6.1 kernels use lz4, its 6.12 ones and ours zstd.
byte_buffer extract_vmlinux(const x86_64::BzImage& kernel) {
    const byte_view payload = kernel.payload();
    if (payload.size() <= 4)
        throw VmlinuxExtractError("the bzImage has no compressed payload (payload_offset, payload_length)");
    // Kbuild appends the uncompressed size to every format but gzip, whose
    // own trailer (ISIZE) already ends the stream with it.
    const bool gzip = payload[0] == 0x1f && payload[1] == 0x8b;
    const byte_view stream = gzip ? payload : payload.first(payload.size() - 4);
    const std::uint64_t size = load_le<std::uint32_t>(payload.data() + payload.size() - 4);
    if (size > max_vmlinux_bytes)
        throw VmlinuxExtractError(fmt::format("the bzImage's payload announces {} bytes; at most {} are unpacked",
                                              size, max_vmlinux_bytes));

    ArchiveReader a(archive_read_new());
    if (!a)
        throw VmlinuxExtractError("libarchive: out of memory");
    // The kernel's formats, each through a library libarchive links:
    // never a filter that runs an external program the file's first bytes
    // would choose (lrzip, grzip, lzop without liblzo2).
    for (auto enable : {archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
                        archive_read_support_filter_xz, archive_read_support_filter_lzma,
                        archive_read_support_filter_lz4, archive_read_support_filter_zstd})
        if (enable(a.get()) != ARCHIVE_OK)
            throw VmlinuxExtractError(fmt::format("libarchive cannot read a kernel format here: {}",
                                                  archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
    archive_read_support_format_raw(a.get());
    archive_entry* entry = nullptr;
    if (archive_read_open_memory(a.get(), stream.data(), stream.size()) != ARCHIVE_OK ||
        archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
        throw VmlinuxExtractError(fmt::format("the bzImage's payload: {}", archive_error_string(a.get())
                                                                                ? archive_error_string(a.get())
                                                                                : "not a compressed stream"));
    // A raw read of data that is not compressed at all passes it through:
    // that is not a kernel payload.
    if (archive_filter_count(a.get()) < 2)
        throw VmlinuxExtractError("the bzImage's payload is not compressed in a format libarchive knows");
    const std::string format = archive_filter_name(a.get(), 0);

    // Bounded by the size the payload announces: a stream that unpacks to
    // more is corrupt, and reading stops at one byte beyond.
    byte_buffer out(static_cast<std::size_t>(size) + 1);
    std::size_t have = 0;
    while (have < out.size()) {
        const la_ssize_t n = archive_read_data(a.get(), out.data() + have, out.size() - have);
        if (n < 0)
            throw VmlinuxExtractError(fmt::format("the bzImage's {} payload: {}", format,
                                                  archive_error_string(a.get()) ? archive_error_string(a.get())
                                                                                : "corrupt"));
        if (n == 0)
            break;
        have += static_cast<std::size_t>(n);
    }
    if (have != size)
        throw VmlinuxExtractError(fmt::format("the bzImage's {} payload unpacked to {}{} bytes, not the {} it announces",
                                              format, have == out.size() ? "more than " : "",
                                              have == out.size() ? size : have, size));
    out.resize(have);
    return out;
}

}  // namespace ktstr::vmm::kernel_image
