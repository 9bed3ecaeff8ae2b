#include "kernel/arm64_image_file.hpp"

#include <cerrno>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <zlib.h>

#include "arch/aarch64/image.hpp"

namespace ktstr::vmm::kernel {
namespace fs = std::filesystem;
namespace {

constexpr std::array<std::uint8_t, 2> gzip_magic{0x1f, 0x8b};

std::vector<std::uint8_t> read_prefix(const fs::path& file, std::size_t bytes) {
    std::vector<std::uint8_t> out(bytes);
    std::ifstream in(file, std::ios::binary);
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(bytes));
    out.resize(in ? bytes : static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return out;
}

bool is_gzip(byte_view head) { return head.size() >= 2 && head[0] == gzip_magic[0] && head[1] == gzip_magic[1]; }

std::vector<std::uint8_t> read_bounded(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", file.string(), ec.message()));
    if (size > aarch64::max_image_bytes)
        throw std::runtime_error(fmt::format("{}: {} bytes, above the {} MiB bound", file.string(), size,
                                             aarch64::max_image_bytes >> 20));
    auto data = read_prefix(file, size);
    if (data.size() != size)
        throw std::runtime_error(fmt::format("{}: cannot read", file.string()));
    return data;
}

// The gzip stream in `file`, inflated; refused past max_image_bytes so
// that a hostile package cannot fill the disk.
std::vector<std::uint8_t> gunzip_bounded(const fs::path& file) {
    const auto packed = read_bounded(file);
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)  // 16: gzip framing only
        throw std::runtime_error("zlib: inflateInit2 failed");
    // Inflated in place, the buffer grown by doubling up to one byte past
    // the bound: reaching that byte is the refusal.
    std::vector<std::uint8_t> out(std::min<std::uint64_t>(packed.size() * 4 + 4096, aarch64::max_image_bytes + 1));
    z.next_in = const_cast<Bytef*>(packed.data());
    z.avail_in = static_cast<uInt>(packed.size());
    std::size_t used = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (used == out.size()) {
            if (out.size() > aarch64::max_image_bytes) {
                inflateEnd(&z);
                throw std::runtime_error(fmt::format("{}: unpacks to more than {} MiB; refused", file.string(),
                                                     aarch64::max_image_bytes >> 20));
            }
            out.resize(std::min<std::uint64_t>(out.size() * 2, aarch64::max_image_bytes + 1));
        }
        z.next_out = out.data() + used;
        z.avail_out = static_cast<uInt>(out.size() - used);
        rc = inflate(&z, Z_NO_FLUSH);
        used = out.size() - z.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            throw std::runtime_error(fmt::format("{}: not valid gzip data ({})", file.string(),
                                                 z.msg ? z.msg : "truncated"));
        }
    }
    inflateEnd(&z);
    if (used > aarch64::max_image_bytes)
        throw std::runtime_error(fmt::format("{}: unpacks to more than {} MiB; refused", file.string(),
                                             aarch64::max_image_bytes >> 20));
    out.resize(used);
    return out;
}

void write_whole(const fs::path& dest, const std::vector<std::uint8_t>& data) {
    std::string tmp = (dest.parent_path() / ("." + dest.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        throw std::runtime_error(fmt::format("{}: cannot create a temporary file", dest.parent_path().string()));
    std::size_t done = 0;
    while (done < data.size()) {
        const auto n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    // On disk before the name: a crash must not leave a short Image under
    // the name every later run prefers.
    bool ok = done == data.size() && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;  // 0644: mkstemp's 0600 would hide it
    ok = ::close(fd) == 0 && ok;
    std::error_code ec;
    if (ok)
        fs::rename(tmp, dest, ec);
    if (!ok || ec) {
        fs::remove(tmp, ec);
        throw std::runtime_error(fmt::format("{}: cannot write", dest.string()));
    }
}

}  // namespace

KernelArch kernel_file_arch(const fs::path& file) {
    const auto head = read_prefix(file, aarch64::image_header_bytes);
    return aarch64::is_arm64_image(head) || is_gzip(head) ? KernelArch::arm64 : KernelArch::x86_64;
}

bool is_arm64_image_file(const fs::path& file) {
    return aarch64::is_arm64_image(read_prefix(file, aarch64::image_header_bytes));
}

fs::path boot_image_beside(const fs::path& vmlinuz, const std::string& release) {
    const auto unpacked = vmlinuz.parent_path() / ("Image-" + release);
    std::error_code ec;
    return fs::is_regular_file(unpacked, ec) ? unpacked : vmlinuz;
}

fs::path bootable_arm64_image(const fs::path& boot_dir, const std::string& release) {
    const auto vmlinuz = boot_dir / ("vmlinuz-" + release);
    auto check = [](const fs::path& what, const std::vector<std::uint8_t>& data) {
        try {
            aarch64::parse_image(data);
        } catch (const aarch64::ImageError& e) {
            throw std::runtime_error(fmt::format("{}: {}", what.string(), e.what()));
        }
    };
    const auto head = read_prefix(vmlinuz, aarch64::image_header_bytes);
    if (aarch64::is_arm64_image(head)) {
        check(vmlinuz, read_bounded(vmlinuz));
        return vmlinuz;
    }
    if (!is_gzip(head))
        throw std::runtime_error(fmt::format("{}: neither an arm64 Image nor gzip data", vmlinuz.string()));
    const auto image = gunzip_bounded(vmlinuz);
    check(vmlinuz, image);
    const auto dest = boot_dir / ("Image-" + release);
    write_whole(dest, image);
    return dest;
}

}  // namespace ktstr::vmm::kernel
