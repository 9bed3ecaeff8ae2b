#include "kernel/host_command.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

extern char** environ;

namespace ktstr::vmm::kernel {
namespace {

constexpr std::size_t output_cap = 1 << 20;

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (::pipe2(fd, O_CLOEXEC) != 0)
            throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    }
    ~Pipe() {
        for (int f : fd)
            if (f >= 0)
                ::close(f);
    }
    void close_write() {
        ::close(fd[1]);
        fd[1] = -1;
    }
};

}  // namespace

bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= p.size()) {
        auto end = p.find(':', start);
        if (end == std::string::npos)
            end = p.size();
        auto dir = p.substr(start, end - start);
        if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0)
            return true;
        start = end + 1;
    }
    return false;
}

CommandResult run_host_command(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
    const bool runnable = !argv.empty() && (argv[0].find('/') != std::string::npos
                                                 ? ::access(argv[0].c_str(), X_OK) == 0
                                                 : on_path(argv[0]));
    if (!runnable)
        throw std::runtime_error(fmt::format("{}: not found (is it installed?)", argv.empty() ? "" : argv[0]));
    Pipe out;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (!cwd.empty())
        posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error(fmt::format("{}: cannot start: {}", argv[0], std::strerror(rc)));
    out.close_write();

    CommandResult r;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(out.fd[0], buf, sizeof buf);
        if (n > 0) {
            if (r.output.size() < output_cap)
                r.output.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

}  // namespace ktstr::vmm::kernel
