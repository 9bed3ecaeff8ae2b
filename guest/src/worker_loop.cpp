// The worker's side of a run: one loop per kind. Every loop completes one
// unit of work before it looks at the stop flag, so a worker that ran at
// all reports progress; only abort ends a wait before that.
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "reaped_child.hpp"
#include "worker_state.hpp"

namespace ktstr::guest {
namespace {

constexpr int wait_slice_ms = 10;  // how long a wait goes without looking at stop and abort

std::int64_t now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class Worker {
public:
    explicit Worker(WorkerState& s) : s_(s), control_(*s.control) {}

    void run() {
        std::visit([this](const auto& kind) { loop(kind); }, s_.kind);
    }

private:
    // A unit of work is done: publish it, note the CPU; false once the
    // worker should stop.
    bool counted(std::uint64_t units = 1) noexcept {
        n_ += units;
        s_.progress.store(n_, std::memory_order_relaxed);
        s_.cpus.note(::sched_getcpu());
        return !control_.stop.load(std::memory_order_relaxed) && !control_.abort.load(std::memory_order_relaxed);
    }
    // Inside a wait: give up on abort, or on stop once there is progress.
    bool give_up() const noexcept {
        return control_.abort.load(std::memory_order_relaxed) ||
               (n_ > 0 && control_.stop.load(std::memory_order_relaxed));
    }

    void loop(const Spin& k) {
        std::uint64_t x = n_ + 1;
        do {
            for (std::uint32_t i = 0; i < k.batch; ++i) {
                x = x * 6364136223846793005u + 1442695040888963407u;
                asm volatile("" : "+r"(x));  // the loop's work must not be folded away
            }
        } while (counted(k.batch));
    }

    void loop(const SleepWake& k) {
        do {
            const std::int64_t target = now_ns() + std::chrono::nanoseconds(k.sleep).count();
            const timespec ts{static_cast<time_t>(target / 1'000'000'000), static_cast<long>(target % 1'000'000'000)};
            while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
            }
            s_.wake_latency.record(std::chrono::nanoseconds(now_ns() - target));
        } while (counted());
    }

    void loop(const Yield&) {
        do
            ::sched_yield();
        while (counted());
    }

    void loop(const PipePingpong&) {
        const auto& p = *s_.pipes;
        const int in = s_.first_of_pair ? p.to_first_read.get() : p.to_second_read.get();
        const int out = s_.first_of_pair ? p.to_second_write.get() : p.to_first_write.get();
        // The first of the pair serves, then both answer what they receive:
        // a token is the writer's clock, its wake latency the reader's
        // clock when the read returned minus that.
        if (s_.first_of_pair && !send_token(out))
            return;
        while (true) {
            std::int64_t sent = 0;
            if (!receive_token(in, sent))
                return;
            s_.wake_latency.record(std::chrono::nanoseconds(now_ns() - sent));
            const bool more = counted();
            // The second of the pair answers even when it stops, so the
            // first one's last round trip completes.
            if ((more || !s_.first_of_pair) && !send_token(out))
                return;
            if (!more)
                return;
        }
    }

    void loop(const ForkChurn&) {
        do {
            const pid_t pid = ::fork();
            if (pid == 0)
                ::_exit(0);  // only async-signal-safe calls in the child of a threaded process
            if (pid < 0) {
                if (give_up())
                    return;
                const timespec backoff{0, 1'000'000};  // EAGAIN: out of processes for now
                ::nanosleep(&backoff, nullptr);
                continue;
            }
            ReapedChild child(pid);
            while (!child.wait_slice(wait_slice_ms))
                if (give_up())
                    return;
            if (!counted())
                return;
        } while (true);
    }

    bool send_token(int fd) {
        const std::int64_t t = now_ns();
        ssize_t w;
        do
            w = ::write(fd, &t, sizeof t);  // <= PIPE_BUF: written whole or not at all
        while (w < 0 && errno == EINTR);
        if (w != static_cast<ssize_t>(sizeof t)) {
            s_.error = std::string("pipe write failed: ") + std::strerror(errno);
            return false;
        }
        return true;
    }

    bool receive_token(int fd, std::int64_t& sent) {
        pollfd p{fd, POLLIN, 0};
        while (true) {
            const int r = ::poll(&p, 1, wait_slice_ms);
            if (r > 0)
                break;
            if (give_up())
                return false;
        }
        ssize_t n;
        do
            n = ::read(fd, &sent, sizeof sent);
        while (n < 0 && errno == EINTR);
        if (n != static_cast<ssize_t>(sizeof sent)) {
            s_.error = n == 0 ? std::string("pipe closed by the partner") : std::string("pipe read failed");
            return false;
        }
        return true;
    }

    WorkerState& s_;
    RunControl& control_;
    std::uint64_t n_ = 0;
};

std::string pin(const std::vector<int>& cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::string list;
    for (int c : cpus) {
        CPU_SET(c, &set);
        list += (list.empty() ? "" : ",") + std::to_string(c);
    }
    if (::sched_setaffinity(0, sizeof set, &set) != 0)  // 0: this thread
        return "cannot set its affinity to CPUs " + list + ": " + std::strerror(errno);
    return {};
}

}  // namespace

void run_worker(WorkerState& s) noexcept {
    try {
        if (!s.affinity.empty())
            s.error = pin(s.affinity);
        // Timer slack (50 us by default) would be measured as wake latency.
        if (std::holds_alternative<SleepWake>(s.kind))
            ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        const TaskStats start = read_thread_stats();
        const bool failed = !s.error.empty();
        s.ready.store(true, std::memory_order_release);
        s.control->go.wait(false);  // the coordinator releases it on every path (WorkerThreads)
        if (!failed && !s.control->abort.load()) {
            Worker(s).run();
            s.stats = stats_delta(start, read_thread_stats());
        }
    } catch (const std::exception& e) {
        s.error = e.what();
    } catch (...) {
        s.error = "unknown exception";
    }
    s.done.store(true, std::memory_order_release);
}

}  // namespace ktstr::guest
