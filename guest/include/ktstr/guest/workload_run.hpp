// Runs a Workload (workload.hpp) in this process and measures it.
//
// Every worker is a thread of this process (fork_churn's forks are its
// children); each sets its affinity, reads its starting counters, and waits
// at a barrier; all are released together once every one is ready. The
// calling thread then samples every worker's progress counter each sample
// interval until the deadline, asks them to stop (each stops after at
// least one unit of work), and after half the stop grace aborts every wait.
// A worker still running at the end of the grace is reported stuck and its
// thread left to finish on its own (detached, owning what it uses): the
// call never waits without a bound, about duration + stop_grace + 1 s at
// worst.
//
// Works outside a VM as well; sending the result is separate
// (WorkloadResult::send).
#pragma once

#include "ktstr/guest/workload.hpp"
#include "ktstr/guest/workload_result.hpp"

namespace ktstr::guest {

// Throws std::invalid_argument for a workload validate() refuses, and
// std::runtime_error naming the group and worker when one cannot be set up
// (its affinity names a CPU it may not use, no pipe, no thread) or fails
// while it runs.
WorkloadResult run_workload(const Workload& workload);

}  // namespace ktstr::guest
