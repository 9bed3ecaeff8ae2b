#include "ktstr/host/output_sink.hpp"

#include <cerrno>
#include <memory>

#include <poll.h>
#include <unistd.h>

namespace ktstr::host {

OutputSink fd_sink(int fd) {
    auto failed = std::make_shared<bool>(false);
    return [fd, failed](byte_view bytes) {
        if (*failed)
            return false;
        while (!bytes.empty()) {
            const auto n = ::write(fd, bytes.data(), bytes.size());
            if (n > 0) {
                bytes = bytes.subspan(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd p{fd, POLLOUT, 0};
                if (::poll(&p, 1, -1) >= 0 || errno == EINTR)
                    continue;
            }
            *failed = true;
            return false;
        }
        return true;
    };
}

OutputSink LineStartTracker::wrap(OutputSink inner) const {
    return [inner = std::move(inner), state = state_](byte_view bytes) {
        const bool ok = inner(bytes);
        if (!ok)
            state->store(false, std::memory_order_release);
        else if (!bytes.empty())
            state->store(bytes.back() == '\n', std::memory_order_release);
        return ok;
    };
}

}  // namespace ktstr::host
