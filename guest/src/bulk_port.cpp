#include "ktstr/guest/bulk_port.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ktstr/common/frame.hpp"
#include "warning.hpp"

namespace ktstr::guest {
namespace {

// The descriptor named by KTSTR_BULK_FD, if it names an open one.
int inherited_fd() noexcept {
    const char* v = std::getenv(bulk_fd_env);
    if (v == nullptr || *v == '\0')
        return -1;
    int fd = -1;
    const char* end = v + std::strlen(v);
    auto [p, ec] = std::from_chars(v, end, fd);
    if (ec != std::errc{} || p != end || fd < 0)
        return -1;
    return ::fcntl(fd, F_GETFD) == -1 ? -1 : fd;
}

}  // namespace

std::shared_ptr<PortHandle> PortHandle::owned(UniqueFd fd) {
    int raw = fd.get();
    return std::shared_ptr<PortHandle>(new PortHandle(std::move(fd), raw));
}

std::shared_ptr<PortHandle> PortHandle::inherited(int fd) {
    return std::shared_ptr<PortHandle>(new PortHandle(UniqueFd{}, fd));
}

BulkPort& BulkPort::instance() {
    static BulkPort port;
    return port;
}

std::shared_ptr<PortHandle> BulkPort::current_locked() {
    const auto gen = paths_generation();
    if (gen != generation_) {
        handle_.reset();
        generation_ = gen;
    }
    if (handle_)
        return handle_;
    if (int fd = inherited_fd(); fd >= 0) {
        handle_ = PortHandle::inherited(fd);
        return handle_;
    }
    // Read+write: the kernel allows a single open of a port, and the
    // snapshot client reads replies through this same descriptor.
    UniqueFd fd(::open(paths().bulk_port.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (fd)
        handle_ = PortHandle::owned(std::move(fd));
    return handle_;
}

std::shared_ptr<PortHandle> BulkPort::handle() {
    std::lock_guard lk(state_mutex_);
    return current_locked();
}

void BulkPort::drop(const std::shared_ptr<PortHandle>& h) {
    std::lock_guard lk(state_mutex_);
    if (handle_ == h)
        handle_.reset();
}

bool BulkPort::wait_until_open(std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (;;) {
        if (handle())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int BulkPort::fd_for_children() {
    auto h = handle();
    return h ? h->fd() : -1;
}

bool BulkPort::write_parts(std::span<const byte_view> parts) {
    std::lock_guard producer(write_lock_);
    auto h = handle();
    if (!h)
        return false;

    // virtio_console has no write_iter, so the kernel turns a writev into
    // one write, one buffer and one host notification per iovec. A small
    // frame is copied into one buffer instead: a single notification.
    std::size_t total = 0;
    for (auto p : parts)
        total += p.size();
    thread_local std::vector<std::uint8_t> staging;
    std::array<byte_view, 1> joined;
    if (parts.size() > 1 && total <= coalesce_limit) {
        staging.clear();
        for (auto p : parts)
            staging.insert(staging.end(), p.begin(), p.end());
        joined[0] = byte_view(staging);
        parts = joined;
    }

    std::array<iovec, 4> iov{};
    std::size_t n = 0;
    for (auto p : parts) {
        if (p.empty())
            continue;
        iov[n].iov_base = const_cast<std::uint8_t*>(p.data());
        iov[n].iov_len = p.size();
        ++n;
    }
    std::size_t first = 0;  // first iovec with bytes left
    while (first < n) {
        ssize_t r = ::writev(h->fd(), iov.data() + first, static_cast<int>(n - first));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                // A non-blocking descriptor (inherited or a test's): wait
                // for room instead of tearing the frame.
                pollfd pfd{h->fd(), POLLOUT, 0};
                ::poll(&pfd, 1, -1);
                continue;
            }
            warn(std::string("bulk port write failed: ") + std::strerror(errno) + "; reopening on next send");
            drop(h);
            return false;
        }
        if (r == 0) {
            warn("bulk port write returned 0; reopening on next send");
            drop(h);
            return false;
        }
        auto done = static_cast<std::size_t>(r);
        while (first < n && done >= iov[first].iov_len) {
            done -= iov[first].iov_len;
            ++first;
        }
        if (first < n) {
            iov[first].iov_base = static_cast<std::uint8_t*>(iov[first].iov_base) + done;
            iov[first].iov_len -= done;
        }
    }
    return true;
}

bool BulkPort::write_frame(std::uint32_t msg_type, byte_view payload) {
    if (payload.size() > max_bulk_frame_payload) {
        warn("frame of " + std::to_string(payload.size()) + " bytes exceeds the bulk cap of " +
             std::to_string(max_bulk_frame_payload) + "; not sent");
        return false;
    }
    std::array<std::uint8_t, frame_header_size> header{};
    encode_frame_header(make_frame_header(msg_type, payload), header);
    const std::array<byte_view, 2> parts{byte_view(header), payload};
    return write_parts(parts);
}

bool BulkPort::write_raw(byte_view bytes) {
    const std::array<byte_view, 1> parts{bytes};
    return write_parts(parts);
}

}  // namespace ktstr::guest
