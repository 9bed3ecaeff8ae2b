#include "ktstr/guest/workload_run.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "worker_state.hpp"
#include "worker_threads.hpp"

namespace ktstr::guest {
namespace {

using Clock = std::chrono::steady_clock;

struct PipeEnds {
    UniqueFd read, write;
};

PipeEnds make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("workload: cannot make a pipe: ") + std::strerror(errno));
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::shared_ptr<PingpongPipes> make_pingpong_pipes() {
    auto p = std::make_shared<PingpongPipes>();
    auto a = make_pipe();
    auto b = make_pipe();
    p->to_second_read = std::move(a.read);
    p->to_second_write = std::move(a.write);
    p->to_first_read = std::move(b.read);
    p->to_first_write = std::move(b.write);
    return p;
}

std::vector<int> affinity_of(const WorkerGroup& g, std::size_t index) {
    if (g.cpus.empty() || g.placement == CpuPlacement::whole_set)
        return g.cpus;
    return {g.cpus[index % g.cpus.size()]};
}

struct Slot {
    std::size_t group = 0;
    std::size_t index = 0;
    std::shared_ptr<WorkerState> state;
    std::vector<ProgressSample> samples;
};

std::string who(const Workload& w, const Slot& s) {
    return "workload: group '" + w.groups[s.group].name + "' worker " + std::to_string(s.index) + ": ";
}

}  // namespace

WorkloadResult run_workload(const Workload& w) {
    validate(w);
    auto control = std::make_shared<RunControl>();
    std::vector<Slot> slots;
    for (std::size_t gi = 0; gi < w.groups.size(); ++gi) {
        const auto& g = w.groups[gi];
        std::shared_ptr<PingpongPipes> pipes;
        for (std::size_t i = 0; i < g.count; ++i) {
            auto s = std::make_shared<WorkerState>();
            s->kind = g.kind;
            s->affinity = affinity_of(g, i);
            s->control = control;
            if (std::holds_alternative<PipePingpong>(g.kind)) {
                s->first_of_pair = i % 2 == 0;
                if (s->first_of_pair)
                    pipes = make_pingpong_pipes();
                s->pipes = pipes;
            }
            slots.push_back({gi, i, std::move(s), {}});
        }
    }

    WorkerThreads threads(control);  // from here on every path stops and accounts for the threads
    for (auto& s : slots) {
        try {
            threads.start(s.state);
        } catch (const std::system_error& e) {
            throw std::runtime_error(who(w, s) + "cannot start a thread: " + e.what());
        }
    }

    // The barrier: wait (bounded) until every worker is set up.
    const auto ready_by = Clock::now() + w.stop_grace;
    for (bool all = false; !all;) {
        all = true;
        for (const auto& s : slots) {
            const bool done = s.state->done.load(std::memory_order_acquire);
            if (!s.state->ready.load(std::memory_order_acquire) && !done) {
                all = false;
                continue;
            }
            if (!s.state->error.empty())
                throw std::runtime_error(who(w, s) + s.state->error);
        }
        if (!all && Clock::now() >= ready_by)
            throw std::runtime_error("workload: workers not ready within " + std::to_string(w.stop_grace.count()) +
                                     " ms");
        if (!all)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    const auto interval = w.effective_sample_interval();
    const auto expected = static_cast<std::size_t>(std::chrono::nanoseconds(w.duration) / interval) + 2;
    for (auto& s : slots)
        s.samples.reserve(std::min(expected, w.max_samples_per_worker + 1));
    auto sample = [&](Clock::time_point t0, Clock::time_point now) {
        for (auto& s : slots)
            if (s.samples.size() < s.samples.capacity())  // never grows past the reserve
                s.samples.push_back({now - t0, s.state->progress.load(std::memory_order_relaxed)});
    };

    const auto t0 = Clock::now();
    sample(t0, t0);  // every counter is 0 here: nobody is released yet
    control->release();
    const auto deadline = t0 + w.duration;
    auto next = t0 + interval;
    auto now = t0;
    while (now < deadline) {
        std::this_thread::sleep_until(std::min(next, deadline));
        now = Clock::now();
        sample(t0, now);
        // A sampler that fell behind (the machine is loaded) skips the
        // ticks it missed rather than sampling in a burst.
        while (next <= now)
            next += interval;
    }
    const auto stopped_at = Clock::now();
    threads.stop(w.stop_grace);

    WorkloadResult r;
    r.duration = stopped_at - t0;
    r.starvation_window = w.effective_starvation_window();
    for (auto& s : slots) {
        auto& st = *s.state;
        WorkerResult wr;
        wr.group = w.groups[s.group].name;
        wr.index = s.index;
        wr.measures_wakes = measures_wakes(st.kind);
        wr.stuck = !st.done.load(std::memory_order_acquire);
        wr.progress = st.progress.load(std::memory_order_acquire);
        if (!wr.stuck) {
            if (!st.error.empty())
                throw std::runtime_error(who(w, s) + st.error);
            wr.wake_latency = std::move(st.wake_latency);
            wr.migrations = st.cpus.migrations();
            wr.cpus = st.cpus.cpus();
            wr.stats = st.stats;
        }
        wr.samples = std::move(s.samples);
        wr.starvation = check_starvation(wr.samples, r.starvation_window);
        r.workers.push_back(std::move(wr));
    }
    std::size_t first = 0;
    for (const auto& g : w.groups) {
        r.groups.push_back(aggregate_group(g.name, std::string(kind_name(g.kind)), std::string(progress_unit(g.kind)),
                                           std::span(r.workers).subspan(first, g.count)));
        first += g.count;
    }
    return r;
}

}  // namespace ktstr::guest
