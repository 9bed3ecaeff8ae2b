#include "boot_sample.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <ktstr/common/bytes.hpp>
#include <ktstr/common/msg_type.hpp>
#include <ktstr/common/payloads.hpp>
#include <ktstr/common/tlv_assembler.hpp>
#include <ktstr/common/unique_fd.hpp>

#include "cli/process_memory.hpp"

namespace ktstr::bench::boot {
namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error system_error(const char* what) {
    return std::runtime_error(fmt::format("boot benchmark: {}: {}", what, std::strerror(errno)));
}

struct PipeEnds {
    UniqueFd read;
    UniqueFd write;
};

PipeEnds open_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw system_error("pipe");
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The guest command's stdout as it arrives: when its first line was
// complete, how many bytes, first and last byte.
void note_stdout(BootSample& s, byte_view bytes, double t) {
    if (bytes.empty())
        return;
    if (!s.first_stdout)
        s.first_stdout = t;
    s.last_stdout = t;
    s.stdout_bytes += bytes.size();
    if (!s.first_line && std::find(bytes.begin(), bytes.end(), std::uint8_t{'\n'}) != bytes.end())
        s.first_line = t;
}

// Starts `argv` with stdout, stderr and (when given) fd 3 on the pipes'
// write ends, stdin /dev/null; it dies with us.
pid_t spawn(std::span<const std::string> argv, int out, int err, std::optional<int> port) {
    std::vector<char*> cargv;
    for (const auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw system_error("fork");
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127);
        const int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        if (port)
            ::dup2(*port, 3);  // dup2 clears close-on-exec
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    return pid;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

BootSample time_boot(std::span<const std::string> argv, StdoutPath path, unsigned timeout_s,
                     std::uint64_t guest_ram_mib) {
    BootSample s;
    PipeEnds out = open_pipe(), err = open_pipe();
    std::optional<PipeEnds> port;
    if (path == StdoutPath::bulk_port)
        port = open_pipe();
    const auto start = Clock::now();
    const pid_t pid = spawn(argv, out.write.get(), err.write.get(),
                            port ? std::optional<int>(port->write.get()) : std::nullopt);
    out.write.reset();
    err.write.reset();
    if (port)
        port->write.reset();
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw system_error("pidfd_open");
    }

    TlvAssembler frames;
    std::vector<std::uint8_t> buf(1 << 20);
    bool running = true;
    const auto deadline = start + std::chrono::seconds(timeout_s);
    constexpr auto sample_every = std::chrono::milliseconds(100);
    auto next_sample = start;
    while (out.read || err.read || (port && port->read) || running) {
        if (running && Clock::now() >= next_sample) {
            if (auto text = cli::read_smaps(pid)) {
                const auto m = cli::split_resident(*text, guest_ram_mib * 1024);
                if (s.own_peak_smaps.empty() || m.other_kib > s.own_peak_kib) {
                    s.own_peak_kib = m.other_kib;
                    s.own_peak_smaps = std::move(*text);
                }
            }
            next_sample = Clock::now() + sample_every;
        }
        std::vector<pollfd> fds;
        for (const UniqueFd* fd : {&out.read, &err.read, port ? &port->read : nullptr, running ? &pidfd : nullptr})
            if (fd && *fd)
                fds.push_back({fd->get(), POLLIN, 0});
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0 && running && !s.timed_out) {
            ::kill(pid, SIGKILL);
            s.timed_out = true;
        }
        const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(left, 0, 100)));
        if (n < 0 && errno != EINTR)
            throw system_error("poll");
        for (const auto& p : fds) {
            if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (p.fd == pidfd.get()) {
                int status = 0;
                rusage ru{};
                if (::wait4(pid, &status, 0, &ru) == pid) {
                    s.exit = seconds_since(start);
                    s.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                    s.max_rss_kib = ru.ru_maxrss;
                    running = false;
                }
                continue;
            }
            UniqueFd& from = p.fd == out.read.get() ? out.read : p.fd == err.read.get() ? err.read : port->read;
            const ssize_t r = ::read(p.fd, buf.data(), buf.size());
            const double t = seconds_since(start);
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                from.reset();
                continue;
            }
            const byte_view bytes(buf.data(), static_cast<std::size_t>(r));
            if (&from == &err.read) {
                s.stderr_tail.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
                if (s.stderr_tail.size() > 4096)
                    s.stderr_tail.erase(0, s.stderr_tail.size() - 4096);
            } else if (&from == &out.read) {
                if (path == StdoutPath::own_stdout)
                    note_stdout(s, bytes, t);
            } else {
                if (!s.first_port)
                    s.first_port = t;
                frames.feed(bytes);
                while (auto f = frames.next()) {
                    if (f->msg_type() == static_cast<std::uint32_t>(MsgType::Stdout))
                        note_stdout(s, f->payload, t);
                    else if (f->msg_type() == static_cast<std::uint32_t>(MsgType::Exit))
                        if (auto code = decode_i32(f->payload))
                            s.guest_exit = *code;
                }
            }
        }
    }
    if (path == StdoutPath::own_stdout)
        s.guest_exit = s.status;
    return s;
}

}  // namespace ktstr::bench::boot
