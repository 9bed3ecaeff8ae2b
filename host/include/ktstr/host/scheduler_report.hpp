// What became of a run's sched_ext scheduler, from the guest's fate
// records (run_result.hpp's SchedulerRecords) and what the host asked
// for: the outcome the run's verdict follows, the one line a person reads
// and the `scheduler` object of the run result (docs/sched-ext.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/host/run_result.hpp"

namespace ktstr::host {

struct SchedulerRequest {
    std::string name;               // the program's name: "scx_qmap"
    std::vector<std::string> args;  // its arguments, argv[0] not included
};

enum class SchedulerOutcome {
    attached_at_end,  // attached, and no end record: still attached when the run ended
    ejected,          // the kernel disabled it (the record's kind and reason)
    exited,           // its process ended (status or signal) while the command ran
    never_attached,   // it exited or timed out before attaching
    unknown,          // no record at all (the guest never got that far, or never said)
};

// "attached at end", "ejected", "exited", "never attached", "unknown".
std::string_view outcome_name(SchedulerOutcome o) noexcept;

struct SchedulerReport {
    SchedulerOutcome outcome = SchedulerOutcome::unknown;
    SchedulerRequest request;
    std::optional<SchedulerFate> attached;  // the attach record
    std::optional<SchedulerFate> end;       // the end record
    std::filesystem::path log;   // the scheduler's output as received; empty: none
    std::filesystem::path dump;  // the kernel log the guest sent after a dump; empty: none

    bool failed() const noexcept {
        return outcome == SchedulerOutcome::ejected || outcome == SchedulerOutcome::exited ||
               outcome == SchedulerOutcome::never_attached;
    }

    // For a failure: "scheduler scx_qmap was ejected after 3.2 s (ERROR_STALL,
    // kind 1026): runnable task stall (init[59] failed to run for 6.741s)".
    // Guest text in it is escaped (terminal_text.hpp) and bounded; one
    // line. Empty when it did not fail.
    std::string describe() const;

    // {"name", "args", "ops", "attached_after_ms", "fate", "status",
    //  "signal", "kind", "kind_name", "reason", "after_ms", "log", "dump"}:
    // absent values are null.
    nlohmann::ordered_json to_json() const;
};

SchedulerReport report_scheduler(const SchedulerRecords& records, SchedulerRequest request);

}  // namespace ktstr::host
