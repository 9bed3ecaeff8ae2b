#include "worker_threads.hpp"

namespace ktstr::guest {

void WorkerThreads::start(std::shared_ptr<WorkerState> state) {
    states_.push_back(state);
    try {
        threads_.emplace_back([s = std::move(state)] { run_worker(*s); });
    } catch (...) {
        states_.pop_back();
        throw;
    }
}

bool WorkerThreads::all_done() const noexcept {
    for (const auto& s : states_)
        if (!s->done.load(std::memory_order_acquire))
            return false;
    return true;
}

void WorkerThreads::stop(std::chrono::milliseconds grace) {
    using Clock = std::chrono::steady_clock;
    const auto begin = Clock::now();
    control_->stop.store(true);
    control_->release();  // in case they never got past the barrier
    bool aborted = false;
    while (!all_done()) {
        const auto waited = Clock::now() - begin;
        if (waited >= grace)
            return;
        if (!aborted && waited >= grace / 2) {
            control_->abort.store(true);
            aborted = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

WorkerThreads::~WorkerThreads() {
    control_->abort.store(true);
    control_->release();
    // Exceptions between start and stop land here with workers at the
    // barrier or working: they see abort within one wait slice (10 ms).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!all_done() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (std::size_t i = 0; i < threads_.size(); ++i) {
        if (states_[i]->done.load(std::memory_order_acquire))
            threads_[i].join();  // done: only returning remains
        else
            threads_[i].detach();
    }
}

}  // namespace ktstr::guest
