#include "ktstr/guest/scheduler.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/scx_exit_kind.hpp"
#include "ktstr/common/utf8.hpp"
#include "ktstr/guest/sched_ext_state.hpp"
#include "ktstr/guest/senders.hpp"

namespace ktstr::guest {
namespace {

using clock = std::chrono::steady_clock;
using Kind = SchedulerFate::Kind;

std::uint64_t ms(clock::duration d) {
    const auto n = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return n < 0 ? 0 : static_cast<std::uint64_t>(n);
}

std::string basename_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

SchedulerProcess::Options process_options(const SchedulerOptions& o) {
    SchedulerProcess::Options p;
    p.executable = o.executable;
    p.argv = o.argv;
    p.env = o.env;
    p.echo_fd = o.echo_fd;
    p.send_frames = o.send_frames;
    p.keep_output = o.output_kept;
    return p;
}

// When something was first seen (a plain pair: GCC takes an optional
// time_point here for maybe-uninitialised).
struct Moment {
    bool seen = false;
    clock::time_point at{};

    void mark(clock::time_point now) noexcept {
        if (!seen) {
            seen = true;
            at = now;
        }
    }
    bool older_than(clock::time_point now, clock::duration d) const noexcept { return seen && now - at >= d; }
};

void set_exit(SchedulerFate& f, const std::optional<ProcessExit>& e) {
    if (!e)
        return;
    f.status = e->status;
    f.signal = e->signal;
}

}  // namespace

std::chrono::milliseconds default_attach_timeout(unsigned online_cpus) {
    return std::chrono::milliseconds(10000 + 2000 * static_cast<std::int64_t>(online_cpus));
}

bool send_fate(const SchedulerFate& f) { return send_lifecycle(lifecycle_phase_of(f.fate), format_fate(f)); }

Scheduler::Scheduler(SchedulerOptions options)
    : options_(std::move(options)),
      program_(basename_of(options_.argv.empty() ? std::string() : options_.argv[0])),
      // Opened before the program starts: nothing the kernel logs about it
      // can come before our position.
      log_(KernelLog::open_at_end()),
      trace_(DumpTrace::open()),
      history_(options_.kernel_log_kept),
      process_(process_options(options_)),
      started_(clock::now()),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Scheduler::~Scheduler() {
    stop_watching();
    if (!process_.poll_exit())
        stop();
}

void Scheduler::read_kernel_log() {
    std::vector<KmsgRecord> records;
    std::lock_guard lk(log_mutex_);
    log_.read_available(records);
    for (const auto& r : records) {
        history_.append(format_dmesg_line(r));
        scanner_.feed(r);
    }
}

void Scheduler::wait_for_events(clock::duration timeout, bool include_process) {
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    if (wake_)
        fds[n++] = {wake_.get(), POLLIN, 0};
    if (include_process) {
        if (process_.pidfd() >= 0)
            fds[n++] = {process_.pidfd(), POLLIN, 0};
        fds[n++] = {process_.exit_fd(), POLLIN, 0};
    }
    const auto t = std::chrono::ceil<std::chrono::milliseconds>(std::max(timeout, clock::duration::zero()));
    ::poll(fds.data(), n, static_cast<int>(std::min<std::int64_t>(t.count(), 1000)));
    if (wake_ && (fds[0].revents & POLLIN)) {
        std::uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_.get(), &v, sizeof v);  // stop_requested_ says why
    }
}

std::string Scheduler::last_output_lines() const {
    std::string tail = process_.output_tail();
    if (tail.size() > options_.text_output) {
        // At a character boundary: a long line without a newline is cut here.
        tail.erase(0, utf8_suffix_start(tail, options_.text_output));
        // Start at a line: the first one is cut unless it happens to start here.
        if (const auto nl = tail.find('\n'); nl != std::string::npos && nl + 1 < tail.size())
            tail.erase(0, nl + 1);
    }
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' '))
        tail.pop_back();
    return tail;
}

SchedulerFate Scheduler::wait_for_attach() {
    const auto deadline = started_ + options_.attach_timeout;
    SchedulerFate f;
    f.program = program_;
    auto logged_kind = [this](SchedulerFate& out) {
        std::lock_guard lk(log_mutex_);
        if (scanner_.disable())
            out.kind = scanner_.disable()->kind;
    };
    for (;;) {
        read_kernel_log();
        const auto st = read_sched_ext_state();
        const auto now = clock::now();
        if (st.attached()) {
            attached_at_ = now;
            ops_ = st.ops;
            {
                // What it logged while being enabled is no death.
                std::lock_guard lk(log_mutex_);
                scanner_.reset();
            }
            f.fate = Kind::attached;
            f.ops = st.ops;
            f.attached_ms = ms(now - started_);
            return f;
        }
        if (const auto e = process_.poll_exit()) {
            process_.finish_output(options_.output_grace);
            read_kernel_log();
            f.fate = Kind::never_attached;
            set_exit(f, e);
            const auto last = read_sched_ext_state();
            f.state = last.state;
            f.ops = last.ops;
            logged_kind(f);
            f.text = last_output_lines();
            return f;
        }
        if (now >= deadline) {
            f.fate = Kind::never_attached;
            f.timeout_ms = ms(options_.attach_timeout);
            f.state = st.state;
            f.ops = st.ops;
            logged_kind(f);
            f.text = last_output_lines();
            return f;
        }
        wait_for_events(std::min<clock::duration>(options_.poll_interval, deadline - now), true);
    }
}

void Scheduler::watch(std::function<void(const SchedulerFate&)> on_death) {
    on_death_ = std::move(on_death);
    if (!attached_at_)
        attached_at_ = clock::now();
    watcher_ = std::thread([this] { run_watch(); });
}

void Scheduler::run_watch() {
    Moment first_sign;     // of a death, whichever came first
    Moment disabled_at;    // the kernel's disable line was read
    Moment state_left_at;  // the state was seen other than `enabled`
    for (;;) {
        const bool stopping = stop_requested_.load();
        read_kernel_log();
        const auto exit = process_.poll_exit();
        // The kernel logs a disable before the program can notice it, so
        // after its exit the log holds every line that belongs to it.
        if (exit)
            read_kernel_log();
        std::optional<SchedExtDisable> disable;
        {
            std::lock_guard lk(log_mutex_);
            disable = scanner_.disable();
        }
        const auto st = read_sched_ext_state();
        const auto now = clock::now();
        if (disable)
            disabled_at.mark(now);
        if (st.state != "enabled")
            state_left_at.mark(now);
        else if (!disable)
            state_left_at = {};  // back to enabled with nothing logged: no death
        if (exit || disable || state_left_at.seen)
            first_sign.mark(now);

        auto base = [&](Kind k) {
            SchedulerFate f;
            f.fate = k;
            f.program = program_;
            f.ops = ops_;
            f.state = st.state;
            f.after_ms = ms(first_sign.at - *attached_at_);
            set_exit(f, exit);
            return f;
        };
        std::optional<SchedulerFate> fate;
        const bool unreg = disable && disable->kind == scx::exit_unreg;
        if (disable && !unreg) {
            // Ejected. Complete once the program exited (its status and its
            // "EXIT: ..." output belong to the report) or it had its chance.
            if (exit || disabled_at.older_than(now, options_.exit_grace)) {
                fate = base(Kind::ejected);
                fate->kind = disable->kind;
                if (fate->ops.empty())
                    fate->ops = disable->ops;
                fate->text = disable->describe();
            }
        } else if (exit) {
            // UNREG is the kernel's record of the program's own unregister.
            fate = base(Kind::exited);
        } else if (unreg) {
            // It unregistered but runs on: detached all the same.
            if (disabled_at.older_than(now, options_.exit_grace)) {
                fate = base(Kind::ejected);
                fate->kind = disable->kind;
                fate->text = disable->describe();
            }
        } else if (state_left_at.older_than(now, options_.kmsg_grace)) {
            fate = base(Kind::ejected);
            fate->kind = scx::exit_error;
            fate->text = "sched_ext state is '" + st.state + "'; the kernel logged no disable line within " +
                         std::to_string(options_.kmsg_grace.count()) + " ms";
        }
        if (fate) {
            death_ = fate;
            if (on_death_)
                on_death_(*fate);
            return;
        }
        if (stopping && !first_sign.seen)
            return;
        wait_for_events(options_.poll_interval, !exit);
    }
}

std::optional<SchedulerFate> Scheduler::stop_watching() {
    if (!watcher_.joinable())
        return death_;
    stop_requested_.store(true);
    if (wake_) {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(wake_.get(), &one, sizeof one);
    }
    watcher_.join();
    return death_;
}

SchedulerFate Scheduler::report(SchedulerFate fate) {
    std::string kernel_log;
    {
        std::lock_guard lk(log_mutex_);
        std::vector<KmsgRecord> records;
        log_.read_available(records);
        for (const auto& r : records)
            history_.append(format_dmesg_line(r));
        std::string history = history_.str();
        if (history_.dropped() != 0) {
            // The kept tail starts inside a line: start at the next one.
            const auto nl = history.find('\n');
            history.erase(0, nl == std::string::npos ? history.size() : nl + 1);
            kernel_log = "[ktstr: the kernel log's first " + std::to_string(history_.total() - history.size()) +
                         " bytes since the scheduler started are not sent]\n";
        }
        kernel_log += history;
        // The ejection's own dump (the event was enabled at the start),
        // then SysRq-D's (only while a scheduler is still enabled).
        kernel_log += collect_dump_trace(trace_, options_.dump.max_bytes);
        trigger_sysrq_dump();
        kernel_log += collect_dump_trace(trace_, options_.dump.max_bytes);
        kernel_log += collect_kernel_log(log_, options_.dump);
    }
    send_dmesg_text(kernel_log);

    if (!process_.poll_exit())
        process_.stop(options_.stop_grace);
    process_.finish_output(options_.output_grace);
    if (fate.fate == Kind::never_attached)
        fate.text = last_output_lines();

    send_fate(fate);
    send_sched_exit(sched_exit_code(fate));
    return fate;
}

std::optional<ProcessExit> Scheduler::stop() {
    auto e = process_.stop(options_.stop_grace);
    process_.finish_output(options_.output_grace);
    return e;
}

}  // namespace ktstr::guest
