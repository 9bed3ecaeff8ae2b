#include "kernel_build/streamed_command.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "kernel/host_command.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "kernel_build/interruption.hpp"

extern char** environ;

namespace ktstr::vmm::kernel_build {
namespace {

void make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
    int fd[2];
    if (::pipe2(fd, O_CLOEXEC) != 0)
        throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    read_end.reset(fd[0]);
    write_end.reset(fd[1]);
}

// SIGPIPE blocked in this thread while it writes to a child's stdin, so a
// child that exits early shows up as EPIPE instead of killing ktstr-vmm; a
// SIGPIPE that arrived meanwhile is taken off before the mask is restored.
class SigpipeBlocked {
public:
    SigpipeBlocked() {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_);
    }
    ~SigpipeBlocked() {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        const timespec zero{};
        while (::sigtimedwait(&pipe_only, nullptr, &zero) > 0) {
        }
        ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    const sigset_t& old_mask() const { return old_; }
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

private:
    sigset_t old_;
};

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int run_streamed(const StreamedCommand& c) {
    if (c.argv.empty() || !kernel::on_path(c.argv[0]))
        throw std::runtime_error(fmt::format("{}: not found (is it installed?)", c.argv.empty() ? "" : c.argv[0]));
    UniqueFd input_file;
    if (!c.input.empty()) {
        input_file.reset(::open(c.input.c_str(), O_RDONLY | O_CLOEXEC));
        if (input_file.get() < 0)
            throw std::runtime_error(fmt::format("{}: {}", c.input.string(), std::strerror(errno)));
    }
    UniqueFd out_read, out_write, in_read, in_write;
    make_pipe(out_read, out_write);
    if (!c.input.empty())
        make_pipe(in_read, in_write);

    SigpipeBlocked sigpipe;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDERR_FILENO);
    if (c.input.empty())
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    else
        posix_spawn_file_actions_adddup2(&actions, in_read.get(), STDIN_FILENO);
    if (!c.cwd.empty())
        posix_spawn_file_actions_addchdir_np(&actions, c.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &sigpipe.old_mask());  // the child gets our usual mask
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> args;
    for (const auto& a : c.argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    if (c.environment) {
        for (const auto& e : *c.environment)
            env.push_back(const_cast<char*>(e.c_str()));
        env.push_back(nullptr);
    }
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), c.environment ? env.data() : environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw std::runtime_error(fmt::format("{}: cannot start: {}", c.argv[0], std::strerror(rc)));
    out_write.reset();
    in_read.reset();
    if (in_write.get() >= 0)
        ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);

    try {
        std::vector<char> pending;  // read from the input file, not yet written
        std::size_t pending_off = 0;
        std::uint64_t written = 0;
        bool input_eof = false;
        char buf[65536];
        auto last_tick = std::chrono::steady_clock::now();
        while (out_read.get() >= 0) {
            pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {in_write.get(), POLLOUT, 0}};
            const nfds_t n = in_write.get() >= 0 ? 2 : 1;
            const int ready = ::poll(fds, n, 1000);
            if (ready < 0 && errno != EINTR)
                throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
            if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                const ssize_t got = ::read(out_read.get(), buf, sizeof buf);
                if (got > 0) {
                    if (c.on_output)
                        c.on_output(std::string_view(buf, static_cast<std::size_t>(got)));
                } else if (got == 0 || errno != EINTR) {
                    out_read.reset();  // the program (and all it started) closed its output
                }
            }
            if (n == 2 && ready > 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
                if (pending_off == pending.size() && !input_eof) {
                    pending.resize(sizeof buf);
                    const ssize_t got = ::read(input_file.get(), pending.data(), pending.size());
                    if (got < 0)
                        throw std::runtime_error(fmt::format("{}: {}", c.input.string(), std::strerror(errno)));
                    pending.resize(static_cast<std::size_t>(got));
                    pending_off = 0;
                    input_eof = got == 0;
                }
                if (pending_off < pending.size()) {
                    const ssize_t put =
                        ::write(in_write.get(), pending.data() + pending_off, pending.size() - pending_off);
                    if (put > 0) {
                        pending_off += static_cast<std::size_t>(put);
                        written += static_cast<std::uint64_t>(put);
                        if (c.on_input_progress)
                            c.on_input_progress(written);
                    } else if (put < 0 && errno == EPIPE) {
                        in_write.reset();  // it stopped reading: its status will say why
                    }
                }
                if (input_eof && pending_off == pending.size())
                    in_write.reset();  // end of input
            }
            if (const int s = InterruptionGuard::requested())
                throw Interrupted(s);  // the catch below stops the program first
            const auto now = std::chrono::steady_clock::now();
            if (now - last_tick >= std::chrono::seconds(1)) {
                last_tick = now;
                if (c.on_tick)
                    c.on_tick();
            }
        }
    } catch (...) {
        ::kill(pid, SIGTERM);
        wait_for(pid);
        throw;
    }
    in_write.reset();
    return wait_for(pid);
}

void LineSplitter::feed(std::string_view chunk) {
    while (!chunk.empty()) {
        const auto eol = chunk.find('\n');
        if (eol == std::string_view::npos) {
            partial_.append(chunk);
            return;
        }
        if (partial_.empty()) {
            on_line_(chunk.substr(0, eol));
        } else {
            partial_.append(chunk.substr(0, eol));
            on_line_(partial_);
            partial_.clear();
        }
        chunk.remove_prefix(eol + 1);
    }
}

void LineSplitter::flush() {
    if (!partial_.empty())
        on_line_(partial_);
    partial_.clear();
}

}  // namespace ktstr::vmm::kernel_build
