#include "ktstr/guest/kernel_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "ktstr/guest/paths.hpp"
#include "warning.hpp"

namespace ktstr::guest {
namespace {

// /dev/kmsg refuses (EINVAL) a read whose buffer cannot hold the next
// record; escaped records stay under 8 KiB (CONSOLE_EXT_LOG_MAX).
constexpr std::size_t read_size = 16 * 1024;

}  // namespace

KernelLog KernelLog::open_at_end(const std::string& path) {
    KernelLog log;
    log.fd_.reset(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!log.fd_) {
        log.error_ = "cannot open " + path + ": " + std::strerror(errno);
        warn("kernel log: " + log.error_);
        return log;
    }
    // /dev/kmsg and files: the end. A FIFO cannot seek (ESPIPE) and has no
    // past to skip.
    ::lseek(log.fd_.get(), 0, SEEK_END);
    return log;
}

KernelLog KernelLog::open_at_end() { return open_at_end(paths().kmsg); }

std::size_t KernelLog::read_available(std::vector<KmsgRecord>& out, std::size_t max_bytes) {
    if (!fd_)
        return 0;
    std::array<char, read_size> buf;
    std::size_t added = 0;
    std::size_t consumed = 0;
    while (consumed < max_bytes) {
        const ssize_t r = ::read(fd_.get(), buf.data(), buf.size());
        if (r > 0) {
            consumed += static_cast<std::size_t>(r);
            added += stream_.feed(std::string_view(buf.data(), static_cast<std::size_t>(r)), out);
            continue;
        }
        if (r == 0)
            break;  // a file's end, or a FIFO without writers: nothing more for now
        if (errno == EINTR)
            continue;
        if (errno == EPIPE) {
            ++lost_;  // overwritten before we read it; the next read goes on after it
            continue;
        }
        if (errno != EAGAIN && !read_failed_) {
            read_failed_ = true;
            warn(std::string("kernel log: read: ") + std::strerror(errno));
        }
        break;
    }
    return added;
}

}  // namespace ktstr::guest
