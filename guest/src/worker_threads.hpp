// The worker threads of one run, owned: stop() asks them to stop and waits
// a bounded time; the destructor aborts whatever still runs, joins every
// thread that finished and detaches the ones that did not (a stuck worker:
// it holds its own share of the state it uses, so it may finish later
// safely). Nothing here waits without a bound.
#pragma once

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "worker_state.hpp"

namespace ktstr::guest {

class WorkerThreads {
public:
    explicit WorkerThreads(std::shared_ptr<RunControl> control) : control_(std::move(control)) {}
    WorkerThreads(const WorkerThreads&) = delete;
    WorkerThreads& operator=(const WorkerThreads&) = delete;
    ~WorkerThreads();

    // Starts a thread running run_worker(*state). Throws std::system_error.
    void start(std::shared_ptr<WorkerState> state);

    // Sets stop; after half the grace sets abort; returns when every worker
    // is done or the grace is over (the ones not done are stuck).
    void stop(std::chrono::milliseconds grace);

private:
    bool all_done() const noexcept;

    std::shared_ptr<RunControl> control_;
    std::vector<std::shared_ptr<WorkerState>> states_;
    std::vector<std::thread> threads_;
};

}  // namespace ktstr::guest
