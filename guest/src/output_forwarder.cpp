#include "ktstr/guest/output_forwarder.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ktstr/guest/senders.hpp"

namespace ktstr::guest {
namespace {

void write_all(int fd, const std::uint8_t* p, std::size_t n) noexcept {
    while (n > 0) {
        ssize_t r = ::write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;  // the echo is best effort
        p += r;
        n -= static_cast<std::size_t>(r);
    }
}

bool send_chunk(OutputStream stream, byte_view chunk) {
    switch (stream) {
    case OutputStream::stdout_stream:
        return send_stdout_chunk(chunk);
    case OutputStream::stderr_stream:
        return send_stderr_chunk(chunk);
    case OutputStream::sched_log:
        return send_sched_log(chunk);
    }
    return false;
}

}  // namespace

OutputForwarder::OutputForwarder(UniqueFd source, Options options)
    : source_(std::move(source)), options_(options), tail_(options.keep_tail) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        throw std::runtime_error(std::string("output forwarder: pipe2: ") + std::strerror(errno));
    wake_read_.reset(p[0]);
    wake_write_.reset(p[1]);
    thread_ = std::thread([this] { run(); });
}

OutputForwarder::~OutputForwarder() { finish(std::chrono::milliseconds(0)); }

void OutputForwarder::run() {
    std::array<std::uint8_t, chunk_size> buf{};
    bool eof = false;
    for (;;) {
        std::array<pollfd, 2> pfd{{{source_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}}};
        int pr = ::poll(pfd.data(), pfd.size(), -1);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        // finish() already waited its grace period for end of file; a
        // writer that outlives it (a daemonised grandchild) is cut off.
        if (pfd[1].revents != 0)
            break;
        if (pfd[0].revents != 0) {
            ssize_t r = ::read(source_.get(), buf.data(), buf.size());
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (r <= 0) {
                eof = true;
                break;
            }
            const auto n = static_cast<std::size_t>(r);
            const byte_view chunk(buf.data(), n);
            bool sent = true;
            if (options_.send_frames)
                sent = send_chunk(options_.stream, chunk);
            if (options_.echo_fd >= 0)
                write_all(options_.echo_fd, buf.data(), n);
            std::lock_guard lk(mutex_);
            tail_.append(std::string_view(reinterpret_cast<const char*>(buf.data()), n));
            stats_.bytes += n;
            stats_.chunks += 1;
            if (options_.send_frames && !sent)
                stats_.chunks_not_sent += 1;
        }
    }
    std::lock_guard lk(mutex_);
    done_ = true;
    eof_ = eof;
    done_cv_.notify_all();
}

bool OutputForwarder::finish(std::chrono::milliseconds grace) {
    {
        std::unique_lock lk(mutex_);
        done_cv_.wait_for(lk, grace, [this] { return done_; });
    }
    if (wake_write_) {
        [[maybe_unused]] auto r = ::write(wake_write_.get(), "x", 1);
    }
    if (thread_.joinable())
        thread_.join();
    std::lock_guard lk(mutex_);
    return eof_;
}

OutputForwarder::Stats OutputForwarder::stats() const {
    std::lock_guard lk(mutex_);
    return stats_;
}

std::string OutputForwarder::tail() const {
    std::lock_guard lk(mutex_);
    return tail_.str();
}

}  // namespace ktstr::guest
