#include "ktstr/common/fd_write.hpp"

#include <cerrno>

#include <unistd.h>

namespace ktstr {

bool write_all(int fd, byte_view bytes) noexcept {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace ktstr
