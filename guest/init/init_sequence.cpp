#include "init_sequence.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "command_group.hpp"
#include "command_runner.hpp"
#include "exit_codes.hpp"
#include "exit_report.hpp"
#include "init_options.hpp"
#include "ktstr/guest/bounded_file.hpp"
#include "ktstr/guest/bulk_port.hpp"
#include "ktstr/guest/control_poller.hpp"
#include "ktstr/guest/crash_hook.hpp"
#include "ktstr/guest/kernel_cmdline.hpp"
#include "ktstr/guest/paths.hpp"
#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/guest/phys_base.hpp"
#include "ktstr/guest/scheduler.hpp"
#include "ktstr/guest/senders.hpp"
#include "ktstr/guest/boot_mark_writer.hpp"
#include "ktstr/guest/shm_writer.hpp"
#include "module_list.hpp"
#include "pid1_setup.hpp"

namespace ktstr::init {
namespace {

using namespace std::chrono_literals;

constexpr auto control_poll_interval = 200ms;
constexpr auto sysrdy_retry_interval = 100ms;
constexpr std::size_t max_module_list = 1 << 20;

class Console {
public:
    explicit Console(int fd) : fd_(fd) {}
    void say(std::string_view text) const noexcept {
        std::string line = "ktstr-init: ";
        line += text;
        line += '\n';
        std::string_view rest = line;
        while (!rest.empty()) {
            ssize_t r = ::write(fd_, rest.data(), rest.size());
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return;
            rest.remove_prefix(static_cast<std::size_t>(r));
        }
    }

private:
    int fd_;
};

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : "; ") + s;
    return out;
}

// Sends KernAddrs, then SysRdy, retrying each until written or out of
// budget: the port can exist before the host has opened its side.
bool announce_ready(std::chrono::milliseconds budget, const Console& console) {
    const auto phys = guest::read_phys_base();
    if (!phys)
        console.say("phys_base unknown (no 'Kernel code' in /proc/iomem); sending 0");
    const auto deadline = std::chrono::steady_clock::now() + budget;
    bool kadr = false;
    for (;;) {
        // page_offset_base is not visible from user space: 0 means unknown.
        if (!kadr)
            kadr = guest::send_kern_addrs(phys.value_or(0), 0);
        if (kadr && guest::send_sys_rdy())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(sysrdy_retry_interval);
    }
}

// The fate record without its free text, for one console / COM2 line
// (the text may hold many lines of the scheduler's output; the Lifecycle
// frame carries all of it).
std::string fate_head(SchedulerFate f) {
    f.text.clear();
    return format_fate(f);
}

unsigned online_cpus() {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1u;
}

}  // namespace

int run_init(const InitSetup& setup) {
    Console console(setup.console_fd);
    MountReport mounts;
    if (setup.pid1) {
        mounts = mount_filesystems();
        ensure_stdio();
    }
    console.say("starting");
    for (const auto& w : mounts.warnings)
        console.say("warning: " + w);

    const auto cmdline = guest::read_kernel_cmdline();
    // First, so the host's time of it is init's start (boot_mark.hpp).
    if (setup.pid1)
        if (const auto why = guest::write_boot_mark(cmdline, BootMark::init_started); !why.empty())
            console.say("warning: no boot mark: " + why);
    std::vector<std::string> option_errors;
    const InitOptions opt = parse_init_options(cmdline, option_errors);
    {
        // Crash reports follow the COM2 this run uses.
        auto p = guest::paths();
        p.com2 = opt.com2;
        guest::set_paths(p);
    }
    SerialLine com2(opt.com2, setup.pid1);
    if (!com2.is_open())
        console.say("warning: cannot open " + opt.com2 + "; the exit line goes to the console only");

    bool port = false;
    std::optional<guest::ControlPoller> poller;

    auto finish = [&](int code) {
        if (port)
            guest::send_exit(code);
        poller.reset();  // nothing may follow the exit line on COM2
        console.say("exit code " + std::to_string(code));
        const auto line = exit_line(code);
        com2.write_line(line);
        com2.drain();
        if (!com2.is_open())
            console.say(std::string_view(line).substr(0, line.size() - 1));
        return code;
    };
    auto fail = [&](int code, const std::string& reason) {
        const auto line = "error: " + reason;
        console.say(line);
        com2.write_line("ktstr-init: " + line);
        if (port)
            guest::send_stderr_chunk(as_bytes("ktstr-init: " + line + "\n"));
        return finish(code);
    };

    if (!mounts.errors.empty())
        return fail(exit_code::mount_failed, join(mounts.errors));
    if (!option_errors.empty())
        return fail(exit_code::bad_options, "kernel command line: " + join(option_errors));

    if (setup.pid1)
        guest::install_crash_hook("ktstr-init");
    if (auto w = guest::shm_writer()) {
        poller.emplace(w, control_poll_interval, [&] {
            console.say("shutdown requested by the host");
            com2.drain();
        });
    }

    if (auto list = guest::read_bounded_file(opt.modules_file, max_module_list)) {
        if (list->truncated)
            return fail(exit_code::module_failed, opt.modules_file + ": larger than 1 MiB");
        std::vector<ModuleEntry> modules;
        try {
            modules = parse_module_list(list->bytes);
        } catch (const std::exception& e) {
            return fail(exit_code::module_failed, opt.modules_file + ": " + e.what());
        }
        auto failures = load_modules(modules);
        if (!failures.empty()) {
            std::vector<std::string> reasons;
            for (const auto& f : failures)
                reasons.push_back("module " + f.path + ": " + f.reason);
            return fail(exit_code::module_failed, join(reasons));
        }
        console.say("loaded " + std::to_string(modules.size()) + " module(s)");
    } else if (errno != ENOENT) {
        return fail(exit_code::module_failed, opt.modules_file + ": " + std::strerror(errno));
    }

    if (opt.guest) {
        port = guest::BulkPort::instance().wait_until_open(opt.port_wait);
        if (!port)
            return fail(exit_code::no_bulk_port,
                        "bulk port " + guest::paths().bulk_port + " did not appear within " +
                            std::to_string(opt.port_wait.count()) +
                            " ms although KTSTR_GUEST=1 (virtio_console missing from the kernel or the module list?)");
        guest::send_lifecycle(LifecyclePhase::InitStarted, "");
        if (!announce_ready(opt.sysrdy_budget, console))
            console.say("warning: KernAddrs/SysRdy not written within " + std::to_string(opt.sysrdy_budget.count()) +
                        " ms; continuing");
    }

    RecordedCommand cmd;
    try {
        cmd = read_recorded_command(opt.command_file, opt.env_file);
    } catch (const std::exception& e) {
        return fail(exit_code::bad_command, std::string("recorded command: ") + e.what());
    }
    std::optional<RecordedCommand> sched_cmd;
    try {
        // The command's environment, read once above.
        sched_cmd = read_recorded_command_if_present(opt.scheduler_file, cmd.env);
    } catch (const std::exception& e) {
        return fail(exit_code::bad_command, std::string("recorded scheduler: ") + e.what());
    }

    RunOptions ro;
    ro.echo_fd = opt.echo ? setup.console_fd : -1;
    ro.send_frames = port;
    ro.bulk_fd = port ? guest::BulkPort::instance().fd_for_children() : -1;
    ro.reap_all = setup.pid1;
    ro.output_grace = setup.output_grace;

    // The scheduler: attached before the command starts, watched while it
    // runs. A death is reported by the watcher (Dmesg, SchedLog,
    // Lifecycle, SchedExit), which then ends the command.
    std::optional<guest::Scheduler> sched;
    CommandGroup group;
    if (sched_cmd) {
        guest::SchedulerOptions so;
        so.env = command_environment(sched_cmd->env, -1);
        // Not found or not executable: exec fails in the child, which says
        // so on its output and exits 127 / 126, a failed attach.
        so.executable = resolve_executable(sched_cmd->argv[0], env_value(so.env, "PATH").value_or("")).path;
        so.argv = sched_cmd->argv;
        so.attach_timeout = opt.sched_attach.value_or(guest::default_attach_timeout(online_cpus()));
        so.echo_fd = ro.echo_fd;
        so.send_frames = port;
        console.say("starting scheduler " + sched_cmd->argv[0] + " (attach timeout " +
                    std::to_string(so.attach_timeout.count()) + " ms)");
        try {
            sched.emplace(std::move(so));
        } catch (const std::exception& e) {
            return fail(exit_code::start_failed, std::string("scheduler: ") + e.what());
        }
        auto fate = sched->wait_for_attach();
        if (fate.fate != SchedulerFate::Kind::attached) {
            if (port)
                fate = sched->report(fate);
            sched.reset();  // stops it if it still runs
            return fail(exit_code::sched_not_attached, "scheduler " + sched_cmd->argv[0] +
                                                           " never attached (" + fate_head(fate) + ")");
        }
        console.say("scheduler attached (" + format_fate(fate) + ")");
        if (port)
            guest::send_fate(fate);
        sched->watch([&](const SchedulerFate& f) {
            console.say("scheduler died (" + fate_head(f) + "); ending the command");
            if (port)
                sched->report(f);
            group.kill();
        });
        ro.on_started = [&group](pid_t pid) { group.started(pid); };
    }

    if (port)
        guest::send_lifecycle(LifecyclePhase::PayloadStarting, cmd.argv[0]);
    console.say("running " + cmd.argv[0]);
    const auto rr = run_command(cmd, ro);
    group.finished();
    std::optional<SchedulerFate> died;
    if (sched)
        died = sched->stop_watching();
    if (died) {
        sched->stop();  // an ejected program may still run (and report() was skipped without a port)
        if (rr.started && port)
            guest::send_exec_exit(rr.exit_code);
        return fail(exit_code::sched_died,
                    "scheduler " + sched_cmd->argv[0] + " " +
                        (died->fate == SchedulerFate::Kind::ejected ? "was ejected" : "exited") +
                        " while the command ran (" + fate_head(*died) + ")");
    }
    if (sched) {
        // Still attached: detached cleanly, nothing more to report.
        const auto e = sched->stop();
        console.say("scheduler stopped (" +
                    (e && e->status ? "exit status " + std::to_string(*e->status)
                     : e && e->signal ? std::string("signal ") + std::to_string(*e->signal)
                                      : std::string("no exit status")) +
                    ")");
    }
    if (!rr.started)
        return fail(rr.exit_code, rr.failure);
    if (rr.chunks_not_sent != 0)
        console.say("warning: " + std::to_string(rr.chunks_not_sent) + " output chunk(s) could not be sent");
    console.say(cmd.argv[0] + " exited with code " + std::to_string(rr.exit_code));
    if (port)
        guest::send_exec_exit(rr.exit_code);
    return finish(rr.exit_code);
}

}  // namespace ktstr::init
