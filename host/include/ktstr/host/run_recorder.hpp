// Turns dispatched frames into a RunResult: counts every frame by type,
// decodes the ones the result keeps (EXIT, EXCX, SCDX, SRDY, LIFE, KADR,
// CRSH, TEST) and counts a payload its type's layout refuses as invalid.
// Subscribed to every frame (Dispatcher::subscribe_all); runs on the host
// loop's thread. The channel counters, snapshot and host fields of the
// result are filled by the host loop at the end.
#pragma once

#include <chrono>

#include "ktstr/common/frame.hpp"
#include "ktstr/host/dispatcher.hpp"
#include "ktstr/host/run_result.hpp"

namespace ktstr::host {

class RunRecorder {
public:
    using Clock = std::chrono::steady_clock;

    explicit RunRecorder(Clock::time_point start, RunLimits limits = {}) : start_(start), limits_(limits) {}

    void record(Channel channel, const Frame& frame, Clock::time_point now);
    // Sets run_time to `now` - start.
    void finish(Clock::time_point now) noexcept { result_.run_time = now - start_; }

    const RunResult& result() const noexcept { return result_; }
    RunResult& result() noexcept { return result_; }
    const RunLimits& limits() const noexcept { return limits_; }

private:
    void record_payload(Channel channel, const Frame& frame, Clock::time_point now);
    std::string bounded(std::string text, std::size_t limit);

    Clock::time_point start_;
    RunLimits limits_;
    RunResult result_;
};

}  // namespace ktstr::host
