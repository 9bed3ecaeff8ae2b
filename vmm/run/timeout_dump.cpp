#include "run/timeout_dump.hpp"

namespace ktstr::vmm::run {

TimeoutDump::TimeoutDump(Config config) : config_(std::move(config)) {}

TimeoutDump::~TimeoutDump() { stop(); }

void TimeoutDump::stop() {
    cancel();
    // No arm() touches thread_ once cancelled_ is set (it checks that
    // first, under the lock), so joining here races with nothing.
    if (thread_.joinable())
        thread_.join();
}

void TimeoutDump::arm(clock::time_point at) {
    std::lock_guard lock(mutex_);
    if (cancelled_ || thread_.joinable())
        return;
    thread_ = std::thread([this, at] { run(at); });
}

void TimeoutDump::note_output() {
    {
        std::lock_guard lock(mutex_);
        last_output_ = clock::now();
    }
    wake_.notify_all();
}

void TimeoutDump::cancel() {
    {
        std::lock_guard lock(mutex_);
        cancelled_ = true;
    }
    wake_.notify_all();
}

bool TimeoutDump::requested() const {
    std::lock_guard lock(mutex_);
    return requested_;
}

void TimeoutDump::run(clock::time_point at) {
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, at, [this] { return cancelled_; }))
        return;
    // Output from before the request (an earlier dump) does not count.
    last_output_.reset();
    requested_ = true;
    lock.unlock();
    const bool asked = config_.request_dump();
    lock.lock();
    if (asked) {
        const auto give_up = clock::now() + config_.grace;
        for (;;) {
            if (cancelled_)
                return;
            const auto now = clock::now();
            if (now >= give_up)
                break;
            if (last_output_ && now >= *last_output_ + config_.quiet)
                break;
            const auto next = last_output_ ? std::min(give_up, *last_output_ + config_.quiet) : give_up;
            wake_.wait_until(lock, next);
        }
    }
    lock.unlock();
    config_.stop();
}

}  // namespace ktstr::vmm::run
