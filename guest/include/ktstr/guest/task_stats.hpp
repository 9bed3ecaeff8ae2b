// What the kernel counts for the calling thread that a workload reports:
// its run delay (time runnable but waiting for a CPU, the second field of
// /proc/self/task/TID/schedstat, which needs CONFIG_SCHED_INFO) and its
// context switches (getrusage RUSAGE_THREAD). Missing data is absent, never 0.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ktstr::guest {

struct TaskStats {
    std::optional<std::chrono::nanoseconds> run_delay;
    std::optional<std::uint64_t> voluntary_switches;
    std::optional<std::uint64_t> involuntary_switches;
};

// The calling thread's counters now.
TaskStats read_thread_stats();

// `end` - `start` per field; a field absent (or going backwards) on either side is absent.
TaskStats stats_delta(const TaskStats& start, const TaskStats& end);

// The run delay of a schedstat line ("RUN WAIT SLICES\n"); nullopt when it
// is not three unsigned numbers.
std::optional<std::chrono::nanoseconds> parse_schedstat_run_delay(std::string_view text);

}  // namespace ktstr::guest
