// What a workload measured: per worker, per group, and the whole run, and
// the one PayloadMetrics (PMET) it is reported as. Metric names are stable
// (docs/guest.md#workloads): group.<g>.progress_total, group.<g>.wake_latency_p99_us,
// worker.<g>.<i>.progress, ...
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ktstr/common/structured.hpp"
#include "ktstr/guest/latency_histogram.hpp"
#include "ktstr/guest/starvation.hpp"
#include "ktstr/guest/task_stats.hpp"

namespace ktstr::guest {

struct WorkerResult {
    std::string group;
    std::size_t index = 0;  // within its group
    std::uint64_t progress = 0;
    std::vector<ProgressSample> samples;  // from the release (progress 0) to the deadline
    bool measures_wakes = false;
    LatencyHistogram wake_latency;         // empty for kinds that do not wake
    std::uint64_t migrations = 0;          // CPU changes seen between two units of work
    std::vector<int> cpus;                 // CPUs it was seen on, ascending
    TaskStats stats;                       // over the run: run delay, context switches
    // It did not stop within the grace: its progress is the last one read,
    // everything else it measures is unknown (empty).
    bool stuck = false;
    StarvationVerdict starvation;
};

struct GroupResult {
    std::string name;
    std::string kind;           // kind_name
    std::string progress_unit;
    std::size_t workers = 0;
    std::uint64_t progress_total = 0;
    std::uint64_t progress_min = 0;
    std::uint64_t progress_max = 0;
    bool measures_wakes = false;
    LatencyHistogram wake_latency;  // every worker's, merged
    std::uint64_t migrations = 0;
    std::vector<int> cpus;          // union over its workers, ascending
    // Sums over the workers that have them; absent when none has.
    std::optional<std::chrono::nanoseconds> run_delay;
    std::optional<std::uint64_t> voluntary_switches;
    std::optional<std::uint64_t> involuntary_switches;
    std::size_t starved_workers = 0;
    std::size_t stuck_workers = 0;
    std::chrono::nanoseconds longest_stall{0};
};

// A group's aggregate of its workers' results.
GroupResult aggregate_group(std::string name, std::string kind, std::string progress_unit,
                            std::span<const WorkerResult> workers);

struct WorkloadResult {
    std::chrono::nanoseconds duration{0};  // from the release to the stop request
    std::chrono::nanoseconds starvation_window{0};
    std::vector<GroupResult> groups;       // in the workload's order
    std::vector<WorkerResult> workers;     // group by group, by index

    std::size_t starved_workers() const noexcept;
    std::size_t stuck_workers() const noexcept;

    // The result as one PMET: the workload.* and group.* metrics, then
    // worker.* metrics for the first `max_worker_metrics` workers only
    // (workload.worker_metrics_omitted counts the rest), so its size is
    // bounded by the workload's group limit. Every value is finite.
    PayloadMetrics to_payload_metrics(std::string payload_name, std::uint64_t payload_index = 0,
                                      std::size_t max_worker_metrics = 64) const;
    // to_payload_metrics sent with send_payload_metrics: false outside a
    // guest or when the frame was not written.
    bool send(std::string payload_name, std::uint64_t payload_index = 0) const;
};

}  // namespace ktstr::guest
