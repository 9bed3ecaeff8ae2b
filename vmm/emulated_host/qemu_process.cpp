#include "emulated_host/qemu_process.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <ktstr/host/exit_line.hpp>
#include "emulated_host/qemu_monitor.hpp"
#include "emulated_host/return_stream.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::emulated_host {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t console_tail_bytes = 64 * 1024;
constexpr std::size_t qemu_stderr_bytes = 64 * 1024;

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0)
        throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A socket pair's two ends: ours ("read", also written: the data port's
// acknowledgement, the monitor's query) and QEMU's ("write").
Pipe make_socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void write_all(int fd, const std::uint8_t* p, std::size_t n) noexcept {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;  // the caller's stream is gone; nothing better to do
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const std::vector<char*>& argv, const std::array<int, 4>& channel_fds,
                             const std::array<int, 4>& targets, int err_fd, pid_t parent) {
    // QEMU must not outlive us, whatever kills us.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
        ::_exit(126);
    // Move every source above the targets first, so that no dup2 below
    // overwrites a source still needed (or dup2s an fd onto itself, which
    // would keep its close-on-exec flag).
    std::array<int, 4> high{};
    for (std::size_t i = 0; i < channel_fds.size(); ++i) {
        high[i] = ::fcntl(channel_fds[i], F_DUPFD_CLOEXEC, 64);
        if (high[i] < 0)
            ::_exit(126);
    }
    const int err_high = ::fcntl(err_fd, F_DUPFD_CLOEXEC, 64);
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (err_high < 0 || null < 0 || ::dup2(null, STDIN_FILENO) < 0 || ::dup2(err_high, STDOUT_FILENO) < 0 ||
        ::dup2(err_high, STDERR_FILENO) < 0)
        ::_exit(126);
    for (std::size_t i = 0; i < targets.size(); ++i)
        if (::dup2(high[i], targets[i]) < 0)
            ::_exit(126);
    ::execv(argv[0], argv.data());
    const char msg[] = "ktstr-vmm: emulated host: cannot execute QEMU\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(127);
}

// Appends to a bounded buffer that keeps the newest bytes.
void keep_tail(std::string& tail, const std::uint8_t* p, std::size_t n, std::size_t cap) {
    tail.append(reinterpret_cast<const char*>(p), n);
    if (tail.size() > 2 * cap)
        tail.erase(0, tail.size() - cap);
}

}  // namespace

QemuRunResult run_qemu(const QemuRunOptions& o) {
    QemuRunResult res;
    const auto start = clock::now();
    const auto argv_strings = qemu_arguments(o.plan);
    std::vector<char*> argv;
    for (const auto& a : argv_strings)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    enum Channel { com1, com2, data, monitor, qemu_err, channel_count };
    std::array<Pipe, channel_count> pipes;
    for (int i = 0; i < channel_count; ++i)
        pipes[i] = i == data || i == monitor ? make_socket_pair() : make_pipe();
    const std::array<int, 4> targets{o.plan.fds.com1, o.plan.fds.com2, o.plan.fds.data_port, o.plan.fds.monitor};
    const std::array<int, 4> sources{pipes[com1].write.get(), pipes[com2].write.get(), pipes[data].write.get(),
                                     pipes[monitor].write.get()};

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0)
        exec_child(argv, sources, targets, pipes[qemu_err].write.get(), parent);
    for (auto& p : pipes)
        p.write.reset();

    host::ExitLineScanner com2_lines([&](std::string_view line) {
        // ktstr-init's error reports and crash lines: always worth seeing.
        std::string s(line);
        s += '\n';
        write_all(o.stderr_fd, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    });
    ReturnStreamReceiver receiver(o.outputs, [&](std::uint32_t kind, ktstr::byte_view bytes) {
        res.inner_output = true;
        write_all(kind == return_kind_stdout ? o.stdout_fd : o.stderr_fd, bytes.data(), bytes.size());
    });
    bool acknowledged = false;

    auto deadline = start + o.timeout;
    std::optional<clock::time_point> grace_deadline;
    std::optional<clock::time_point> monitor_deadline;  // set when the query went out
    bool killed = false;
    bool exited = false;
    int open_pipes = channel_count;
    std::vector<std::uint8_t> buf(1 << 16);

    while (open_pipes > 0 || !exited) {
        if (!exited) {
            int st = 0;
            pid_t r = ::waitpid(pid, &st, WNOHANG);
            if (r == pid) {
                exited = true;
                res.qemu_status = st;
                res.ended_during_query = monitor_deadline.has_value() && !killed;
            }
        }
        const auto now = clock::now();
        if (!killed && !exited) {
            if (now >= deadline && !monitor_deadline) {
                // Ask where the outer CPUs are before killing QEMU; a
                // monitor that cannot take the query is not waited for.
                res.timed_out = true;
                monitor_deadline = now;
                if (pipes[monitor].read &&
                    ::send(pipes[monitor].read.get(), cpu_state_query.data(), cpu_state_query.size(),
                           MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(cpu_state_query.size())) {
                    res.monitor_asked = true;
                    monitor_deadline = now + o.monitor_wait;
                }
            }
            if (monitor_deadline && (now >= *monitor_deadline || cpu_state_reply_complete(res.monitor_reply))) {
                ::kill(pid, SIGKILL);
                killed = true;
            } else if (!monitor_deadline && grace_deadline && now >= *grace_deadline) {
                res.killed_after_exit_line = true;
                ::kill(pid, SIGKILL);
                killed = true;
            }
        }
        if (open_pipes == 0) {
            // Everything read; QEMU is on its way out.
            int st = 0;
            if (::waitpid(pid, &st, 0) == pid) {
                exited = true;
                res.qemu_status = st;
            }
            break;
        }

        std::array<pollfd, channel_count> pfds{};
        for (int i = 0; i < channel_count; ++i)
            pfds[i] = {pipes[i].read ? pipes[i].read.get() : -1, POLLIN, 0};
        // Wake at least every 100 ms to notice QEMU's exit and the deadlines.
        int r = ::poll(pfds.data(), pfds.size(), 100);
        if (r < 0 && errno != EINTR)
            throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
        for (int i = 0; i < channel_count && r > 0; ++i) {
            if (pfds[i].revents == 0)
                continue;
            ssize_t n = ::read(pipes[i].read.get(), buf.data(), buf.size());
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                pipes[i].read.reset();
                --open_pipes;
                continue;
            }
            const auto* p = buf.data();
            const auto len = static_cast<std::size_t>(n);
            switch (i) {
            case com1:
                keep_tail(res.console_tail, p, len, console_tail_bytes);
                if (o.verbose)
                    write_all(o.stderr_fd, p, len);
                break;
            case com2:
                com2_lines.feed({p, len});
                if (com2_lines.exit_code() && !grace_deadline)
                    grace_deadline = clock::now() + o.exit_grace;
                break;
            case data:
                receiver.feed({p, len});
                if (receiver.ended() && !acknowledged) {
                    // Everything arrived: the guest side may exit now.
                    acknowledged = true;
                    const char ack = return_ack;
                    ssize_t ignored = ::send(pipes[data].read.get(), &ack, 1, MSG_NOSIGNAL);
                    (void)ignored;
                }
                break;
            case monitor:
                // Before the query: the banner and prompt, dropped.
                if (monitor_deadline && res.monitor_reply.size() < monitor_reply_max)
                    res.monitor_reply.append(reinterpret_cast<const char*>(p),
                                             std::min(len, monitor_reply_max - res.monitor_reply.size()));
                break;
            case qemu_err:
                if (o.verbose)
                    write_all(o.stderr_fd, p, len);
                if (res.qemu_stderr.size() < qemu_stderr_bytes)
                    res.qemu_stderr.append(reinterpret_cast<const char*>(p),
                                           std::min(len, qemu_stderr_bytes - res.qemu_stderr.size()));
                break;
            }
        }
    }
    com2_lines.finish();
    res.exit_code = com2_lines.exit_code();
    res.output_error = receiver.finish();
    if (res.console_tail.size() > console_tail_bytes)
        res.console_tail.erase(0, res.console_tail.size() - console_tail_bytes);
    res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
    return res;
}

}  // namespace ktstr::vmm::emulated_host
