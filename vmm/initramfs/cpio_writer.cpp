#include "initramfs/cpio_writer.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::initramfs {
namespace {

byte_view bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

CpioWriter::CpioWriter(Sink sink) : sink_(std::move(sink)) {}

std::string CpioWriter::normalize(std::string_view path) {
    std::string out;
    std::size_t pos = 0;
    while (pos < path.size()) {
        auto slash = path.find('/', pos);
        if (slash == std::string_view::npos)
            slash = path.size();
        const auto part = path.substr(pos, slash - pos);
        pos = slash + 1;
        if (part.empty())
            continue;
        if (part == "." || part == "..")
            throw CpioError(fmt::format("'{}': '.' and '..' are not allowed in archive paths", path));
        if (!out.empty())
            out.push_back('/');
        out.append(part);
    }
    if (out.empty())
        throw CpioError(fmt::format("'{}': empty archive path", path));
    if (out.find('\0') != std::string::npos)
        throw CpioError("archive path with a NUL byte");
    if (out.size() > max_path)
        throw CpioError(fmt::format("archive path longer than {} bytes", max_path));
    return out;
}

void CpioWriter::emit(byte_view bytes) {
    if (!bytes.empty())
        sink_(bytes);
    offset_ += bytes.size();
}

void CpioWriter::pad(std::uint64_t written) {
    static constexpr std::array<std::uint8_t, 4> zeros{};
    emit(byte_view(zeros.data(), static_cast<std::size_t>((4 - written % 4) % 4)));
}

void CpioWriter::header(const std::string& name, const Header& h) {
    if (finished_)
        throw std::logic_error("CpioWriter: entry after finish");
    const bool dir = (h.mode & S_IFMT) == S_IFDIR;
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
    // rdevmajor, rdevminor, namesize, check.
    const auto text = fmt::format("070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                                  ++ino_, h.mode, 0, 0, dir ? 2 : 1, 0, h.size, 0, 0, h.rdev_major, h.rdev_minor,
                                  name.size() + 1, 0);
    emit(bytes_of(text));
    emit(byte_view(reinterpret_cast<const std::uint8_t*>(name.c_str()), name.size() + 1));
    pad(offset_);
}

std::string CpioWriter::claim(std::string_view path, std::uint32_t type) {
    auto name = normalize(path);
    // Parents first, each once.
    for (auto slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
        const auto parent = name.substr(0, slash);
        auto it = types_.find(parent);
        if (it == types_.end()) {
            types_.emplace(parent, S_IFDIR);
            header(parent, {S_IFDIR | 0755});
        } else if (it->second != S_IFDIR) {
            throw CpioError(fmt::format("'/{}': its parent /{} is not a directory in the archive", name, parent));
        }
    }
    if (auto it = types_.find(name); it != types_.end()) {
        if (type == S_IFDIR && it->second == S_IFDIR)
            return {};  // already there
        throw CpioError(fmt::format("'/{}' is in the archive twice", name));
    }
    types_.emplace(name, type);
    return name;
}

void CpioWriter::directory(std::string_view path, std::uint32_t mode) {
    const auto name = claim(path, S_IFDIR);
    if (!name.empty())
        header(name, {S_IFDIR | (mode & 07777)});
}

void CpioWriter::file(std::string_view path, byte_view data, std::uint32_t mode) {
    if (data.size() > max_file_size)
        throw CpioError(fmt::format("'{}': larger than cpio's 4 GiB limit", path));
    const auto name = claim(path, S_IFREG);
    header(name, {S_IFREG | (mode & 07777), data.size()});
    emit(data);
    pad(offset_);
    payload_ += data.size();
}

void CpioWriter::host_file(std::string_view path, const std::filesystem::path& host, std::optional<std::uint32_t> mode) {
    UniqueFd in(::open(host.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!in || ::fstat(in.get(), &st) != 0)
        throw CpioError(fmt::format("{}: cannot read: {}", host.string(), std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
        throw CpioError(fmt::format("{}: not a regular file", host.string()));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_file_size)
        throw CpioError(fmt::format("{}: larger than cpio's 4 GiB limit", host.string()));
    const auto name = claim(path, S_IFREG);
    header(name, {S_IFREG | ((mode ? *mode : st.st_mode) & 07777), size});
    std::array<std::uint8_t, 1 << 16> buf;
    std::uint64_t left = size;
    while (left > 0) {
        const ssize_t n = ::read(in.get(), buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size())));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw CpioError(fmt::format("{}: read failed: {}", host.string(), std::strerror(errno)));
        if (n == 0)
            throw CpioError(fmt::format("{}: shrank while being read", host.string()));
        emit(byte_view(buf.data(), static_cast<std::size_t>(n)));
        left -= static_cast<std::uint64_t>(n);
    }
    pad(offset_);
    payload_ += size;
}

void CpioWriter::symlink(std::string_view path, std::string_view target) {
    if (target.empty() || target.size() > max_path || target.find('\0') != std::string_view::npos)
        throw CpioError(fmt::format("'{}': bad symlink target", path));
    const auto name = claim(path, S_IFLNK);
    header(name, {S_IFLNK | 0777, target.size()});
    emit(bytes_of(target));
    pad(offset_);
}

void CpioWriter::char_device(std::string_view path, std::uint32_t major, std::uint32_t minor, std::uint32_t mode) {
    const auto name = claim(path, S_IFCHR);
    header(name, {S_IFCHR | (mode & 07777), 0, major, minor});
}

void CpioWriter::finish() {
    if (finished_)
        return;
    header("TRAILER!!!", {});
    finished_ = true;
    // To a 512-byte block, as cpio(1) pads; the kernel skips zeros between
    // archives, so an image can still be concatenated with another.
    static constexpr std::array<std::uint8_t, 512> zeros{};
    emit(byte_view(zeros.data(), static_cast<std::size_t>((512 - offset_ % 512) % 512)));
}

}  // namespace ktstr::vmm::initramfs
