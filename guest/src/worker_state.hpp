// What a workload's coordinator and one worker thread share. It lives in a
// shared_ptr held by both, so a worker that never stopped (reported stuck,
// its thread detached) still finds it, and the pipes it may be polling,
// alive whenever it runs again.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cpu_trace.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "ktstr/guest/latency_histogram.hpp"
#include "ktstr/guest/task_stats.hpp"
#include "ktstr/guest/workload.hpp"

namespace ktstr::guest {

// The run's phases as every worker sees them.
struct RunControl {
    std::atomic<bool> go{false};     // the barrier: set once, when every worker is ready (or to abort)
    std::atomic<bool> stop{false};   // the deadline passed: stop after at least one unit of work
    std::atomic<bool> abort{false};  // stop now, even inside a wait and before any work

    void release() noexcept {
        go.store(true);
        go.notify_all();
    }
};

// The two pipes of a pipe_pingpong pair: the first worker writes to_second
// and reads to_first, the second the other way round.
struct PingpongPipes {
    UniqueFd to_second_read, to_second_write;
    UniqueFd to_first_read, to_first_write;
};

struct WorkerState {
    WorkKind kind;
    std::vector<int> affinity;  // empty: unpinned
    bool first_of_pair = false;
    std::shared_ptr<PingpongPipes> pipes;
    std::shared_ptr<RunControl> control;

    alignas(64) std::atomic<std::uint64_t> progress{0};  // the worker's only hot write
    alignas(64) std::atomic<bool> ready{false};  // set up (or failed to), waiting at the barrier
    std::atomic<bool> done{false};               // finished: everything below is final

    std::string error;  // written before ready (setup) or before done (the run)
    LatencyHistogram wake_latency;
    CpuTrace cpus;
    TaskStats stats;
};

// A worker thread's whole life: set up, barrier, work until told to stop.
// Never throws: failures land in state.error.
void run_worker(WorkerState& state) noexcept;

}  // namespace ktstr::guest
