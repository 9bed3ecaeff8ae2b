#include "initramfs/cpio_reader.hpp"

#include <array>

#include <sys/stat.h>

#include <fmt/core.h>

#include "initramfs/compression.hpp"

namespace ktstr::vmm::initramfs {
namespace {

constexpr std::size_t header_size = 110;  // 6 magic + 13 * 8 hex

std::uint32_t hex_field(byte_view h, std::size_t index, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        const auto c = h[6 + index * 8 + i];
        std::uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10u;
        else
            throw CpioError(fmt::format("offset {}: header field {} is not hexadecimal", at, index));
        v = v << 4 | d;
    }
    return v;
}

std::size_t padded(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

}  // namespace

bool CpioEntry::is_directory() const noexcept { return (mode & S_IFMT) == S_IFDIR; }
bool CpioEntry::is_file() const noexcept { return (mode & S_IFMT) == S_IFREG; }
bool CpioEntry::is_symlink() const noexcept { return (mode & S_IFMT) == S_IFLNK; }
bool CpioEntry::is_char_device() const noexcept { return (mode & S_IFMT) == S_IFCHR; }

std::vector<CpioEntry> read_cpio(byte_view a) {
    std::vector<CpioEntry> out;
    std::size_t at = 0;
    bool trailer_seen = false;
    while (at < a.size()) {
        // Between archives: zero padding, skipped 4 bytes at a time as the
        // kernel does.
        if (trailer_seen) {
            if (a[at] == 0) {
                ++at;
                continue;
            }
            if (at % 4 != 0)
                throw CpioError(fmt::format("offset {}: data after the trailer", at));
            trailer_seen = false;
        }
        if (a.size() - at < header_size)
            throw CpioError(fmt::format("offset {}: truncated header", at));
        const auto h = a.subspan(at, header_size);
        static constexpr std::array<std::uint8_t, 6> magic{'0', '7', '0', '7', '0', '1'};
        if (!std::equal(magic.begin(), magic.end(), h.begin()))
            throw CpioError(fmt::format("offset {}: not a newc header (magic 070701)", at));
        CpioEntry e;
        e.mode = hex_field(h, 1, at);
        e.uid = hex_field(h, 2, at);
        e.gid = hex_field(h, 3, at);
        e.nlink = hex_field(h, 4, at);
        e.mtime = hex_field(h, 5, at);
        const std::size_t size = hex_field(h, 6, at);
        e.rdev_major = hex_field(h, 9, at);
        e.rdev_minor = hex_field(h, 10, at);
        const std::size_t namesize = hex_field(h, 11, at);
        if (namesize == 0 || namesize > CpioWriter::max_path + 1)
            throw CpioError(fmt::format("offset {}: name size {} out of range", at, namesize));
        const std::size_t name_at = at + header_size;
        if (a.size() - name_at < namesize)
            throw CpioError(fmt::format("offset {}: name runs past the end", at));
        if (a[name_at + namesize - 1] != 0)
            throw CpioError(fmt::format("offset {}: name is not NUL-terminated", at));
        e.path.assign(reinterpret_cast<const char*>(a.data() + name_at), namesize - 1);
        const std::size_t data_at = padded(name_at + namesize);
        if (data_at > a.size() || a.size() - data_at < size)
            throw CpioError(fmt::format("offset {}: '{}' data runs past the end", at, e.path));
        at = padded(data_at + size);
        if (e.path == "TRAILER!!!") {
            trailer_seen = true;
            continue;
        }
        e.data.assign(a.begin() + static_cast<std::ptrdiff_t>(data_at),
                      a.begin() + static_cast<std::ptrdiff_t>(data_at + size));
        out.push_back(std::move(e));
    }
    if (!trailer_seen)
        throw CpioError("no TRAILER!!! entry: the archive is truncated");
    return out;
}

std::vector<CpioEntry> read_initramfs(byte_view image, std::uint64_t max_unpacked) {
    const auto c = compression_of(image.first(std::min<std::size_t>(image.size(), 8)));
    if (c == Compression::none)
        return read_cpio(image);
    const auto unpacked = decompress(image, c, max_unpacked);
    return read_cpio(unpacked);
}

}  // namespace ktstr::vmm::initramfs
