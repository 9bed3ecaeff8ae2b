#include "kernel/file_lock.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/core.h>

namespace ktstr::vmm::kernel {

FileLock::FileLock(const std::filesystem::path& path, Mode mode, const std::function<void()>& on_signal) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw std::runtime_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
    while (::flock(fd_, mode == Mode::exclusive ? LOCK_EX : LOCK_SH) != 0) {
        const int e = errno;
        if (e == EINTR && on_signal) {
            try {
                on_signal();
            } catch (...) {
                ::close(fd_);
                throw;
            }
        } else if (e != EINTR) {
            ::close(fd_);
            throw std::runtime_error(fmt::format("lock {}: {}", path.string(), std::strerror(e)));
        }
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0)
        ::close(fd_);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

std::optional<FileLock> FileLock::try_exclusive(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return std::nullopt;
    }
    FileLock l;
    l.fd_ = fd;
    return l;
}

}  // namespace ktstr::vmm::kernel
