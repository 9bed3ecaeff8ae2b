#include "command_runner.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "exit_codes.hpp"
#include "exit_report.hpp"
#include "ktstr/guest/child_setup.hpp"
#include "ktstr/guest/output_forwarder.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::init {
namespace {


struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

std::optional<Pipe> make_pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        return std::nullopt;
    return Pipe{UniqueFd(p[0]), UniqueFd(p[1])};
}

// In the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, int out_fd, int err_fd,
                             int bulk_fd, int report_fd) {
    guest::setup_exec_child(out_fd, err_fd);
    if (bulk_fd >= 0)
        ::fcntl(bulk_fd, F_SETFD, 0);  // inherited across exec, see KTSTR_BULK_FD
    ::execve(path, argv, envp);
    int e = errno;
    [[maybe_unused]] auto r = ::write(report_fd, &e, sizeof e);
    ::_exit(exit_code::not_found);
}

int wait_for(pid_t pid, bool reap_all) {
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(reap_all ? -1 : pid, &status, 0);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        // r is an orphan PID 1 inherited: reaped, keep waiting.
    }
}

}  // namespace

RunResult run_command(const RecordedCommand& cmd, const RunOptions& o) {
    RunResult res;
    const auto env = command_environment(cmd.env, o.bulk_fd);
    const auto resolved = resolve_executable(cmd.argv[0], env_value(env, "PATH").value_or(""));
    if (resolved.status == Resolve::not_found) {
        res.exit_code = exit_code::not_found;
        res.failure = "command not found: " + cmd.argv[0] + " (PATH=" +
                      std::string(env_value(env, "PATH").value_or("")) + ")";
        return res;
    }
    if (resolved.status == Resolve::not_executable) {
        res.exit_code = exit_code::not_executable;
        res.failure = "command not executable: " + resolved.path;
        return res;
    }

    auto out = make_pipe();
    auto err = make_pipe();
    auto report = make_pipe();
    if (!out || !err || !report) {
        res.exit_code = exit_code::start_failed;
        res.failure = std::string("cannot create pipes: ") + std::strerror(errno);
        return res;
    }
    auto argv = guest::exec_strings(cmd.argv);
    auto envp = guest::exec_strings(env);

    const pid_t pid = ::fork();
    if (pid < 0) {
        res.exit_code = exit_code::start_failed;
        res.failure = std::string("fork: ") + std::strerror(errno);
        return res;
    }
    if (pid == 0)
        exec_child(resolved.path.c_str(), argv.data(), envp.data(), out->write.get(), err->write.get(), o.bulk_fd,
                   report->write.get());

    if (o.on_started)
        o.on_started(pid);
    out->write.reset();
    err->write.reset();
    report->write.reset();
    guest::OutputForwarder fwd_out(std::move(out->read),
                                   {guest::OutputStream::stdout_stream, o.echo_fd, o.send_frames});
    guest::OutputForwarder fwd_err(std::move(err->read),
                                   {guest::OutputStream::stderr_stream, o.echo_fd, o.send_frames});

    // exec closes the report pipe (close-on-exec): end of file means the
    // command started; an int means execve failed with that errno.
    int exec_errno = 0;
    ssize_t n;
    do {
        n = ::read(report->read.get(), &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);

    const int status = wait_for(pid, o.reap_all);
    fwd_out.finish(o.output_grace);
    fwd_err.finish(o.output_grace);
    const auto so = fwd_out.stats();
    const auto se = fwd_err.stats();
    res.stdout_bytes = so.bytes;
    res.stderr_bytes = se.bytes;
    res.chunks_not_sent = so.chunks_not_sent + se.chunks_not_sent;

    if (n == static_cast<ssize_t>(sizeof exec_errno)) {
        res.exit_code = exec_errno == ENOENT ? exit_code::not_found : exit_code::not_executable;
        res.failure = "exec " + resolved.path + ": " + std::strerror(exec_errno) +
                      (exec_errno == ENOENT ? " (a missing ELF interpreter of a dynamic program reads the same)" : "");
        return res;
    }
    res.started = true;
    if (status < 0) {
        res.exit_code = exit_code::start_failed;
        res.failure = std::string("waitpid: ") + std::strerror(errno);
        return res;
    }
    res.exit_code = exit_code_from_wait_status(status);
    return res;
}

}  // namespace ktstr::init
