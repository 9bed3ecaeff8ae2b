#include "ktstr/guest/scheduler_process.hpp"

#include "ktstr/common/fd_write.hpp"
#include "ktstr/guest/child_setup.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace ktstr::guest {
namespace {

#ifndef P_PIDFD
constexpr idtype_t p_pidfd = static_cast<idtype_t>(3);  // Linux 5.4; older C libraries lack the name
#else
constexpr idtype_t p_pidfd = P_PIDFD;
#endif

// The supervisor's first report: the program's pid, or -1 and fork's errno.
struct StartReport {
    std::int32_t pid;
    std::int32_t error;
};

int pidfd_open(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool pidfd_send_signal(int pidfd, int sig) noexcept {
    return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

std::string basename_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Between fork and exec, async-signal-safe calls only (the parent has
// threads): the rest of this file's child code follows the same rule.
// common's write_all is a plain write() loop, so it may be called there.
void write_all(int fd, const char* p, std::size_t n) noexcept {
    (void)ktstr::write_all(fd, byte_view(reinterpret_cast<const std::uint8_t*>(p), n));
}

void write_decimal(int fd, int v) noexcept {
    char buf[16];
    char* e = buf + sizeof buf;
    char* p = e;
    unsigned u = v < 0 ? 0u - static_cast<unsigned>(v) : static_cast<unsigned>(v);
    do {
        *--p = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    write_all(fd, p, static_cast<std::size_t>(e - p));
}

[[noreturn]] void run_program(const char* path, char* const* argv, char* const* envp, int out_fd,
                              const std::string& fail_prefix) noexcept {
    setup_exec_child(out_fd, out_fd);
    ::execve(path, argv, envp);
    const int e = errno;
    // On its output, so that the report's text says why it never ran.
    write_all(STDERR_FILENO, fail_prefix.data(), fail_prefix.size());
    write_all(STDERR_FILENO, "errno ", 6);
    write_decimal(STDERR_FILENO, e);
    if (const char* name = ::strerrorname_np(e)) {  // a constant table: safe here
        write_all(STDERR_FILENO, " (", 2);
        write_all(STDERR_FILENO, name, std::strlen(name));
        write_all(STDERR_FILENO, ")", 1);
    }
    write_all(STDERR_FILENO, "\n", 1);
    ::_exit(e == ENOENT ? 127 : 126);
}

[[noreturn]] void supervise(const char* path, char* const* argv, char* const* envp, int out_fd, int status_fd,
                            int ack_fd, const std::string& fail_prefix) noexcept {
    // Signals meant for the program or for init (a command's kill -TERM -1)
    // must not end the one process that can tell how the program ended.
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    const pid_t child = ::fork();
    if (child == 0)
        run_program(path, argv, envp, out_fd, fail_prefix);
    const StartReport report{child, child < 0 ? errno : 0};
    // Keep nothing but the status and ack pipes, moved to 3 and 4: any
    // descriptor held here stays open for as long as the program runs (the
    // output pipe's reader would never see its end, nor would any other
    // pipe's of the parent). Copied above both slots first, so that
    // neither move overwrites the other's source.
    constexpr int status_slot = 3;
    constexpr int ack_slot = 4;
    const int status_copy = ::fcntl(status_fd, F_DUPFD, 10);
    const int ack_copy = ::fcntl(ack_fd, F_DUPFD, 10);
    ::dup2(status_copy, status_slot);
    ::dup2(ack_copy, ack_slot);
    ::close_range(0, status_slot - 1, 0);
    ::close_range(ack_slot + 1, ~0u, 0);
    write_all(status_slot, reinterpret_cast<const char*>(&report), sizeof report);
    if (child < 0)
        ::_exit(0);
    // Not reaped before the parent holds its pidfd (or gave up): until
    // then the pid cannot be reused, so the pidfd names the program.
    char ack;
    while (::read(ack_slot, &ack, 1) < 0 && errno == EINTR) {
    }
    ::close(ack_slot);
    int wstatus = 0;
    pid_t r;
    do {
        r = ::waitpid(child, &wstatus, 0);
    } while (r < 0 && errno == EINTR);
    if (r == child)
        write_all(status_slot, reinterpret_cast<const char*>(&wstatus), sizeof wstatus);
    ::_exit(0);
}

std::size_t read_full(int fd, void* buf, std::size_t n) noexcept {
    auto* p = static_cast<char*>(buf);
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += static_cast<std::size_t>(r);
    }
    return got;
}

}  // namespace

SchedulerProcess::SchedulerProcess(Options o) {
    if (o.argv.empty())
        throw std::invalid_argument("scheduler: empty argv");
    const std::string path = o.executable.empty() ? o.argv[0] : o.executable;
    const std::string fail_prefix = basename_of(o.argv[0]) + ": cannot execute " + path + ": ";
    auto argv = exec_strings(o.argv);
    auto envp = exec_strings(o.env);

    int out[2], st[2], ack[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "scheduler: output pipe");
    UniqueFd out_read(out[0]), out_write(out[1]);
    if (::pipe2(st, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "scheduler: status pipe");
    UniqueFd status_write(st[1]);
    status_read_.reset(st[0]);
    if (::pipe2(ack, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "scheduler: ack pipe");
    UniqueFd ack_read(ack[0]), ack_write(ack[1]);

    const pid_t sup = ::fork();
    if (sup < 0)
        throw std::system_error(errno, std::generic_category(), "scheduler: fork");
    if (sup == 0)
        supervise(path.c_str(), argv.data(), envp.data(), out_write.get(), status_write.get(), ack_read.get(),
                  fail_prefix);
    supervisor_pid_ = sup;
    // It cannot exit before our ack (below), so the pid is still its own.
    supervisor_pidfd_.reset(pidfd_open(sup));
    out_write.reset();
    status_write.reset();
    ack_read.reset();
    forwarder_.emplace(std::move(out_read),
                       OutputForwarder::Options{OutputStream::sched_log, o.echo_fd, o.send_frames, o.keep_output});

    StartReport report{};
    if (read_full(status_read_.get(), &report, sizeof report) != sizeof report) {
        status_pipe_done_ = true;
        exit_ = ProcessExit{};
        reap_supervisor();
        throw std::system_error(EIO, std::generic_category(), "scheduler: the supervisor ended without reporting");
    }
    if (report.pid < 0) {
        status_pipe_done_ = true;
        exit_ = ProcessExit{};
        reap_supervisor();
        throw std::system_error(report.error, std::generic_category(), "scheduler: fork");
    }
    pid_ = report.pid;
    // The supervisor reaps it only after our ack, so the pid is the
    // program's (a zombie at worst) until then. pidfd_open fails only on
    // a kernel without it (before 5.3); exit_fd() then tells the exit.
    pidfd_.reset(pidfd_open(pid_));
    const char go = 1;
    [[maybe_unused]] auto w = ::write(ack_write.get(), &go, 1);
    ack_write.reset();
    ::fcntl(status_read_.get(), F_SETFL, ::fcntl(status_read_.get(), F_GETFL) | O_NONBLOCK);
}

SchedulerProcess::~SchedulerProcess() {
    if (!poll_exit() && send_signal(SIGKILL))
        wait_exit(std::chrono::seconds(5));
    if (forwarder_)
        forwarder_->finish(std::chrono::milliseconds(0));
}

std::optional<ProcessExit> SchedulerProcess::poll_exit() {
    if (status_pipe_done_)
        return exit_;
    int wstatus = 0;
    const ssize_t r = ::read(status_read_.get(), &wstatus, sizeof wstatus);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return std::nullopt;
    ProcessExit e;
    if (r == static_cast<ssize_t>(sizeof wstatus)) {
        if (WIFEXITED(wstatus))
            e.status = WEXITSTATUS(wstatus);
        else if (WIFSIGNALED(wstatus))
            e.signal = WTERMSIG(wstatus);
    }
    // Otherwise the supervisor ended without the status (it was killed):
    // the program's end is unknown, both fields stay empty.
    exit_ = e;
    status_pipe_done_ = true;
    reap_supervisor();
    return exit_;
}

std::optional<ProcessExit> SchedulerProcess::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto e = poll_exit())
            return e;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return std::nullopt;
        pollfd p{status_read_.get(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    }
}

bool SchedulerProcess::send_signal(int sig) {
    if (poll_exit())
        return false;
    if (pidfd_)
        return pidfd_send_signal(pidfd_.get(), sig);
    return false;  // no pidfd: it was gone before we could name it
}

std::optional<ProcessExit> SchedulerProcess::stop(std::chrono::milliseconds grace) {
    if (auto e = poll_exit())
        return e;
    send_signal(SIGINT);
    if (auto e = wait_exit(grace))
        return e;
    send_signal(SIGKILL);
    return wait_exit(std::chrono::seconds(5));
}

void SchedulerProcess::finish_output(std::chrono::milliseconds grace) { forwarder_->finish(grace); }

void SchedulerProcess::reap_supervisor() noexcept {
    if (supervisor_reaped_ || supervisor_pid_ <= 0)
        return;
    supervisor_reaped_ = true;
    // It exits right after its last report. A PID 1 reaping every orphan
    // may have reaped it already: ECHILD, nothing to do.
    if (supervisor_pidfd_) {
        siginfo_t si{};
        while (::waitid(p_pidfd, static_cast<id_t>(supervisor_pidfd_.get()), &si, WEXITED) != 0 && errno == EINTR) {
        }
    } else {
        // No pidfd: never block on a pid that may have been reused.
        ::waitpid(supervisor_pid_, nullptr, WNOHANG);
    }
}

}  // namespace ktstr::guest
