#include "ktstr/guest/workload.hpp"

#include <sched.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace ktstr::guest {
namespace {

template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

bool valid_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > 64)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

[[noreturn]] void refuse(const std::string& what) { throw std::invalid_argument("workload: " + what); }

}  // namespace

std::string_view kind_name(const WorkKind& kind) noexcept {
    return std::visit(Overload{[](const Spin&) { return std::string_view("spin"); },
                               [](const SleepWake&) { return std::string_view("sleep_wake"); },
                               [](const Yield&) { return std::string_view("yield"); },
                               [](const PipePingpong&) { return std::string_view("pipe_pingpong"); },
                               [](const ForkChurn&) { return std::string_view("fork_churn"); }},
                      kind);
}

std::string_view progress_unit(const WorkKind& kind) noexcept {
    return std::visit(Overload{[](const Spin&) { return std::string_view("iterations"); },
                               [](const SleepWake&) { return std::string_view("wakes"); },
                               [](const Yield&) { return std::string_view("yields"); },
                               [](const PipePingpong&) { return std::string_view("round_trips"); },
                               [](const ForkChurn&) { return std::string_view("forks"); }},
                      kind);
}

bool measures_wakes(const WorkKind& kind) noexcept {
    return std::holds_alternative<SleepWake>(kind) || std::holds_alternative<PipePingpong>(kind);
}

std::chrono::nanoseconds Workload::effective_sample_interval() const noexcept {
    const std::chrono::nanoseconds asked = sample_interval;
    const auto samples = static_cast<std::int64_t>(std::max<std::size_t>(max_samples_per_worker, 2) - 1);
    // One sample at the start, then at most samples - 1 more up to the deadline.
    const std::chrono::nanoseconds floor{(std::chrono::nanoseconds(duration).count() + samples - 1) / samples};
    return std::max(asked, floor);
}

std::chrono::nanoseconds Workload::effective_starvation_window() const noexcept {
    if (starvation_window)
        return *starvation_window;
    return std::min<std::chrono::nanoseconds>(std::chrono::seconds(1), std::chrono::nanoseconds(duration) / 2);
}

void validate(const Workload& w) {
    if (w.duration.count() <= 0)
        refuse("duration must be positive, got " + std::to_string(w.duration.count()) + " ms");
    if (w.sample_interval.count() <= 0)
        refuse("sample_interval must be positive");
    if (w.stop_grace.count() <= 0)
        refuse("stop_grace must be positive");
    if (w.starvation_window && w.starvation_window->count() <= 0)
        refuse("starvation_window must be positive");
    if (w.groups.empty())
        refuse("no groups");
    if (w.groups.size() > Workload::max_groups)
        refuse(std::to_string(w.groups.size()) + " groups, at most " + std::to_string(Workload::max_groups));
    std::set<std::string_view> names;
    std::size_t workers = 0;
    for (const auto& g : w.groups) {
        if (!valid_name(g.name))
            refuse("group name '" + g.name + "' must be 1..64 of [A-Za-z0-9_-]");
        if (!names.insert(g.name).second)
            refuse("group name '" + g.name + "' used twice");
        if (g.count == 0)
            refuse("group '" + g.name + "' has no workers");
        if (std::holds_alternative<PipePingpong>(g.kind) && g.count % 2 != 0)
            refuse("pipe_pingpong group '" + g.name + "' needs an even count, got " + std::to_string(g.count));
        if (auto* s = std::get_if<Spin>(&g.kind); s && s->batch == 0)
            refuse("spin group '" + g.name + "' has a batch of 0");
        if (auto* s = std::get_if<SleepWake>(&g.kind)) {
            if (s->sleep.count() <= 0 || s->sleep > std::chrono::microseconds(w.duration))
                refuse("sleep_wake group '" + g.name + "' sleeps " + std::to_string(s->sleep.count()) +
                       " us, not within 1 us and the duration");
            // A sleep is not cut by the stop: one as long as the starvation
            // window would make every worker look starved, one beyond half
            // the stop grace would make it look stuck.
            if (s->sleep >= w.effective_starvation_window())
                refuse("sleep_wake group '" + g.name + "' sleeps " + std::to_string(s->sleep.count()) +
                       " us, not less than the starvation window (" +
                       std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                          w.effective_starvation_window())
                                          .count()) +
                       " us): every worker would look starved; shorten the sleep or widen starvation_window");
            if (s->sleep > w.stop_grace / 2)
                refuse("sleep_wake group '" + g.name + "' sleeps " + std::to_string(s->sleep.count()) +
                       " us, more than half the stop grace: a worker could not stop in time");
        }
        for (int cpu : g.cpus)
            if (cpu < 0 || cpu >= CPU_SETSIZE)
                refuse("group '" + g.name + "' names CPU " + std::to_string(cpu) + ", outside 0.." +
                       std::to_string(CPU_SETSIZE - 1));
        workers += g.count;
        if (workers > Workload::max_workers)
            refuse("more than " + std::to_string(Workload::max_workers) + " workers");
    }
}

}  // namespace ktstr::guest
