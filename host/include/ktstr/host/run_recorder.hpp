// Turns dispatched frames into a RunResult: counts every frame by type,
// decodes the ones the result keeps (EXIT, EXCX, SCDX, SRDY, LIFE, KADR,
// CRSH, TEST, PMET) and counts a payload its type's layout refuses as invalid.
// What it keeps of the guest's texts stays within the RunLimits (per item
// and max_kept_bytes in total); kept texts own exactly their kept bytes,
// never the capacity of a longer original.
// Subscribed to every frame (Dispatcher::subscribe_all); runs on the host
// loop's thread. The channel counters, snapshot and host fields of the
// result are filled by the host loop at the end.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "ktstr/common/frame.hpp"
#include "ktstr/host/dispatcher.hpp"
#include "ktstr/host/run_result.hpp"

namespace ktstr::host {

class RunRecorder {
public:
    using Clock = std::chrono::steady_clock;

    explicit RunRecorder(Clock::time_point start, RunLimits limits = {}) : start_(start), limits_(limits) {
        result_.kept.max_kept_bytes = limits_.max_kept_bytes;
    }

    void record(Channel channel, const Frame& frame, Clock::time_point now);
    // Sets run_time to `now` - start.
    void finish(Clock::time_point now) noexcept { result_.run_time = now - start_; }

    const RunResult& result() const noexcept { return result_; }
    RunResult& result() noexcept { return result_; }
    // Moves the result out (the host loop's final pass: no copy of what
    // may be megabytes); the recorder is left with an empty result.
    RunResult take_result() noexcept { return std::move(result_); }
    const RunLimits& limits() const noexcept { return limits_; }

private:
    void record_payload(Channel channel, const Frame& frame, Clock::time_point now);
    void record_test(byte_view payload);
    void record_payload_metrics(byte_view payload);
    // A Lifecycle reason that is a fate record of the right phase fills
    // result_.scheduler's first free slot (RunResult's SchedulerRecords).
    void note_scheduler(LifecyclePhase phase, std::string_view reason, std::chrono::nanoseconds at);
    // Charges a record's fixed cost against the budget; false (nothing
    // charged) when it does not fit.
    bool charge_record(std::size_t cost = kept_record_cost) noexcept;
    // The first min(limit, what the budget has left) bytes of `text`, as a
    // string of exactly that size, charged; a cut is counted.
    std::string keep_text(std::string_view text, std::size_t limit);
    // A structured payload above `limit` is refused before it is decoded
    // (nlohmann-json's tree takes some 40 times its size): counted in
    // `oversize_counter`, its bytes as dropped. True when refused.
    bool refuse_oversize(byte_view payload, std::size_t limit, std::uint64_t& oversize_counter) noexcept;
    // A record not kept: counted, with the guest text it had.
    void dropped(std::uint64_t& kind_counter, std::size_t text_bytes, bool over_budget) noexcept;
    std::size_t budget_left() const noexcept;

    Clock::time_point start_;
    RunLimits limits_;
    RunResult result_;
};

}  // namespace ktstr::host
