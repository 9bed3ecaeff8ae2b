// A cpio archive in the "newc" format, the one the kernel unpacks as an
// initramfs: per entry the magic "070701", thirteen 8-digit hex fields,
// the NUL-terminated name padded to 4 bytes, the data padded to 4 bytes;
// a "TRAILER!!!" entry ends the archive.
//
// Entries are written as they are added to a byte sink (a file, a
// compressor), never held whole. Paths are guest paths ("/bin/sh" or
// "bin/sh"), stored without the leading '/'; each parent directory is
// written once (0755) before its first child. Owner root, mtime 0: the
// same input gives the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::initramfs {

struct CpioError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class CpioWriter {
public:
    using Sink = std::function<void(byte_view)>;

    // The size field is 32 bits.
    static constexpr std::uint64_t max_file_size = 0xffff'ffffu;
    // Longest path stored (PATH_MAX less the NUL).
    static constexpr std::size_t max_path = 4095;

    explicit CpioWriter(Sink sink);

    // A directory; adding one that is already there (explicitly or as a
    // parent) is a no-op.
    void directory(std::string_view path, std::uint32_t mode = 0755);
    void file(std::string_view path, byte_view data, std::uint32_t mode = 0644);
    // Streams a host regular file (followed through symlinks). `mode`
    // defaults to the host file's permission bits. Throws CpioError naming
    // the host file when it cannot be read or changes size while read.
    void host_file(std::string_view path, const std::filesystem::path& host, std::optional<std::uint32_t> mode = {});
    void symlink(std::string_view path, std::string_view target);
    void char_device(std::string_view path, std::uint32_t major, std::uint32_t minor, std::uint32_t mode = 0600);

    // Writes the trailer; nothing may be added after.
    void finish();

    std::uint64_t payload_bytes() const noexcept { return payload_; }
    std::uint32_t entries() const noexcept { return ino_; }

    // "/a//b/" -> "a/b". Throws CpioError for an empty path, "." or ".."
    // components, a NUL byte, or more than max_path bytes.
    static std::string normalize(std::string_view path);

private:
    struct Header {
        std::uint32_t mode = 0;
        std::uint64_t size = 0;
        std::uint32_t rdev_major = 0;
        std::uint32_t rdev_minor = 0;
    };
    // Claims `path` for a new entry of `type` (S_IF* bits), adding its
    // parents; throws CpioError when it is taken.
    std::string claim(std::string_view path, std::uint32_t type);
    void header(const std::string& name, const Header& h);
    void emit(byte_view bytes);
    void pad(std::uint64_t written);

    Sink sink_;
    std::map<std::string, std::uint32_t, std::less<>> types_;  // path -> S_IF* of what is there
    std::uint32_t ino_ = 0;
    std::uint64_t payload_ = 0;
    std::uint64_t offset_ = 0;
    bool finished_ = false;
};

}  // namespace ktstr::vmm::initramfs
