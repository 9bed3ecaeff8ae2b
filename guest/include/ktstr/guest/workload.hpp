// A declarative workload for a scheduler test: groups of workers doing one
// kind of work each, started together behind a barrier and stopped together
// at a deadline. run_workload (workload_run.hpp) runs it and measures each
// worker (workload_result.hpp); docs/guest.md#workloads has the kinds, what
// each measures and the metric names.
//
//   ktstr::guest::Workload w;
//   w.duration = 2s;
//   w.groups = {{.name = "hogs", .kind = Spin{}, .count = 2, .cpus = {0}},
//               {.name = "chain", .kind = PipePingpong{}, .count = 2, .cpus = {0, 1}}};
//   auto result = ktstr::guest::run_workload(w);
//   result.send("my-test");
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ktstr::guest {

// The kinds, each with its parameters. Progress is counted in the unit of
// progress_unit(kind).
struct Spin {               // a CPU spinner: progress = loop iterations
    std::uint32_t batch = 4096;  // iterations between two counter updates
};
struct SleepWake {          // sleep, wake, repeat: progress = wakes
    std::chrono::microseconds sleep{100};
};
struct Yield {};            // sched_yield in a loop: progress = yields
struct PipePingpong {};     // pairs bouncing a token through two pipes: progress = tokens received
struct ForkChurn {};        // fork a child that exits at once, reap it: progress = children reaped

using WorkKind = std::variant<Spin, SleepWake, Yield, PipePingpong, ForkChurn>;

std::string_view kind_name(const WorkKind& kind) noexcept;      // "spin", "sleep_wake", ...
std::string_view progress_unit(const WorkKind& kind) noexcept;  // "iterations", "wakes", ...
// Whether the kind measures wake latency (sleep_wake, pipe_pingpong).
bool measures_wakes(const WorkKind& kind) noexcept;

// How a group's `cpus` are used (an empty list: every worker may run and
// migrate anywhere the process may).
enum class CpuPlacement {
    round_robin,  // worker i pinned to the one CPU cpus[i % cpus.size()]
    whole_set,    // every worker's affinity is the whole list (free inside it)
};

// Every member has a default so designated initialisers may leave any out.
struct WorkerGroup {
    std::string name{};        // [A-Za-z0-9_-], 1..64 bytes, unique: it is part of metric names
    WorkKind kind = Spin{};
    unsigned count = 1;        // pipe_pingpong: even (workers 2k and 2k+1 are a pair)
    std::vector<int> cpus{};   // empty: free to migrate; else see CpuPlacement
    CpuPlacement placement = CpuPlacement::round_robin;
};

struct Workload {
    std::vector<WorkerGroup> groups;    // at most max_groups, max_workers workers in all
    std::chrono::milliseconds duration{1000};
    // How often the coordinator reads every worker's progress counter;
    // widened so that no worker keeps more than max_samples_per_worker.
    std::chrono::milliseconds sample_interval{10};
    std::size_t max_samples_per_worker = 4096;
    // A worker whose progress did not move for this long is starved
    // (starvation.hpp). Default: min(1 s, duration / 2).
    std::optional<std::chrono::milliseconds> starvation_window;
    // After the deadline, how long workers get to stop: half of it, then
    // every wait is abandoned (even before a worker's first unit of work),
    // and at its end a worker still running is reported stuck.
    std::chrono::milliseconds stop_grace{2000};

    static constexpr std::size_t max_groups = 32;
    static constexpr std::size_t max_workers = 1024;

    std::chrono::nanoseconds effective_sample_interval() const noexcept;
    std::chrono::nanoseconds effective_starvation_window() const noexcept;
};

// Throws std::invalid_argument naming the first problem (a bad name, a
// count of 0, an odd pipe_pingpong count, a CPU outside 0..1023, a sleep
// longer than the run, too many workers, a non-positive duration, ...).
void validate(const Workload& workload);

}  // namespace ktstr::guest
