// What a run produced, as the host saw it: the guest's exit code, what
// arrived on each channel and what was lost, times, the init stages, the
// kernel's addresses, crash reports, test verdicts and payload metrics. `ktstr-vmm run
// --json` prints to_json_text() as one object on stdout; docs/host.md lists
// every field.
//
// What the result keeps from the guest is bounded twice (RunLimits): per
// item (so many crash texts, tests, details, bytes per text) and by one
// total byte budget over all of it (max_kept_bytes), so a guest cannot
// grow the result, or its JSON, beyond a few MiB whatever it sends. What
// was cut or dropped, and why, is counted in `kept` (and, as one number,
// in records_truncated). TEST and PMET payloads above their
// max_*_payload_bytes are not decoded at all: counted, never parsed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ktstr/common/payloads.hpp"
#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/common/structured.hpp"
#include "ktstr/host/bulk_channel.hpp"
#include "ktstr/host/dispatcher.hpp"
#include "ktstr/host/shm_drain.hpp"

namespace ktstr::host {

struct RunLimits {
    std::size_t max_lifecycle_stages = 256;
    std::size_t max_crashes = 16;
    std::size_t max_crash_bytes = 64 * 1024;  // per crash text kept (the whole text is printed)
    std::size_t max_tests = 1024;
    std::size_t max_test_details = 64;        // per test
    std::size_t max_text_bytes = 4096;        // a lifecycle reason, a test detail's kind or message
    // Everything the result keeps from the guest together: lifecycle
    // reasons, crash texts, tests and their details. Each kept record is
    // charged its text plus a fixed size (kept_record_cost), so empty
    // records are not free. First come, first kept: once it is spent,
    // later records are dropped (texts are cut to what is left first).
    std::size_t max_kept_bytes = std::size_t{4} << 20;
    // A TEST payload (JSON) longer than this is not decoded: parsing costs
    // tens of times the payload in memory and time, before any of the
    // limits above can apply. It is counted in kept.oversize_tests; its
    // verdict is unknown and counts as neither passed nor failed.
    std::size_t max_test_payload_bytes = std::size_t{1} << 20;
    // PMET: payloads kept, metrics kept per payload, and the payload size
    // above which it is not decoded (as for TEST). A payload's name and a
    // metric's name and unit are texts of max_text_bytes.
    std::size_t max_payload_metrics = 256;
    std::size_t max_metrics_per_payload = 1024;
    std::size_t max_payload_metrics_bytes = std::size_t{1} << 20;
};

// What each kept record is charged on top of its text: the size of the
// object that holds it in RunResult.
inline constexpr std::size_t kept_record_cost = 64;
// The same for a kept PayloadMetrics or Metric: their objects hold two
// strings and a number, more than kept_record_cost.
inline constexpr std::size_t kept_metric_record_cost = 2 * kept_record_cost;

// What the result kept from the guest and what it did not.
struct KeptStats {
    std::uint64_t max_kept_bytes = 0;  // RunLimits::max_kept_bytes of the run
    std::uint64_t kept_bytes = 0;      // charged against it, <= max_kept_bytes
    std::uint64_t dropped_bytes = 0;   // guest text not kept: of dropped records, cut off texts, oversize TESTs
    std::uint64_t cut_texts = 0;       // texts kept shortened (per-text limit or budget)
    std::uint64_t over_budget = 0;     // cuts and drops due to max_kept_bytes (the rest: per-item limits)
    // Records not kept at all, by kind.
    std::uint64_t dropped_lifecycle = 0;
    std::uint64_t dropped_crashes = 0;
    std::uint64_t dropped_tests = 0;         // verdicts still counted in tests_passed/failed
    std::uint64_t dropped_test_details = 0;  // details of kept tests
    std::uint64_t oversize_tests = 0;        // TEST payloads above max_test_payload_bytes, not decoded
    std::uint64_t dropped_payload_metrics = 0;  // PMET payloads (with all their metrics)
    std::uint64_t dropped_metrics = 0;          // metrics of kept PMET payloads
    std::uint64_t oversize_payload_metrics = 0; // PMET payloads above max_payload_metrics_bytes, not decoded
};

struct LifecycleStage {
    LifecyclePhase phase = LifecyclePhase::InitStarted;
    std::string reason;
    std::chrono::nanoseconds at{0};  // arrival, after the run's start
    Channel channel = Channel::bulk;
};

// The guest's fate records of its sched_ext scheduler (Lifecycle reasons,
// common/scheduler_fate.hpp): the first attach record (PayloadStarting)
// and the first end record (SchedulerDied / SchedulerNotAttached), each
// with its arrival after the start. Later records are ignored: the first
// end is the one that stopped the run.
struct SchedulerRecords {
    std::optional<SchedulerFate> attached;
    std::chrono::nanoseconds attached_at{0};
    std::optional<SchedulerFate> end;
    std::chrono::nanoseconds end_at{0};
};

struct SnapshotStats {
    std::uint64_t requests = 0;         // well-formed SNRQ frames
    std::uint64_t captured = 0;         // captures answered OK
    std::uint64_t errors = 0;           // requests of any kind answered ERR
    std::uint64_t shm_drain_holds = 0;     // ShmDrainHold answered OK
    std::uint64_t shm_drain_releases = 0;  // ShmDrainRelease answered OK
    std::uint64_t malformed = 0;        // SNRQ payload not 72 bytes: no id to answer
    std::uint64_t replies_refused = 0;  // the device did not take a whole reply
    std::uint64_t bytes = 0;            // written into captures (their total is bounded)
    std::vector<std::string> capture_dirs;  // where captures went, in order
};

struct RunResult {
    // EXIT's code if the guest sent one, else EXCX's; none: the guest
    // never said (power-off without a report, a crash).
    std::optional<std::int32_t> exit_code;
    std::optional<std::int32_t> guest_exit;  // the last EXIT
    std::optional<std::int32_t> exec_exit;   // the last EXCX
    std::optional<std::int32_t> sched_exit;  // the last SCDX
    bool stopped_by_sched_exit = false;      // the loop asked the VMM to stop early

    std::uint64_t frames = 0;            // both channels
    std::uint64_t crc_errors = 0;        // both channels
    std::uint64_t invalid_payloads = 0;  // CRC ok but the type's layout refused the payload
    std::map<std::string, std::uint64_t> message_counts;  // by tag ("SOUT"); "unknown" for other types
    std::map<std::string, std::uint64_t> shm_message_counts;  // the SHM ring's share of message_counts

    BulkChannelStats bulk;
    bool shm_present = false;
    ShmDrainStats shm;

    std::optional<std::chrono::nanoseconds> boot_time;  // first SRDY's arrival after the start
    std::chrono::nanoseconds run_time{0};               // start to the final drain
    std::optional<std::chrono::nanoseconds> last_frame_time;  // the last frame's arrival after the start
    std::vector<LifecycleStage> lifecycle;
    SchedulerRecords scheduler;
    std::optional<KernAddrs> kern_addrs;  // the last valid KADR
    std::vector<std::string> crashes;     // CRSH texts
    std::vector<TestResult> tests;        // TEST verdicts in arrival order
    std::uint64_t tests_passed = 0;       // counted over every decoded verdict, kept or not
    std::uint64_t tests_failed = 0;
    std::vector<PayloadMetrics> payload_metrics;  // PMET payloads in arrival order (the kept ones)
    KeptStats kept;
    SnapshotStats snapshots;

    // Host-side trouble, none of it fatal to the run.
    std::uint64_t records_truncated = 0;  // records cut or dropped, any cause (details: kept)
    std::uint64_t handler_errors = 0;
    std::string last_handler_error;
    std::uint64_t output_errors = 0;  // stdout/stderr sink writes that failed
    std::string message_log_error;
    std::uint64_t message_log_left_out = 0;  // frames past the message log's cap
    std::uint64_t loop_errors = 0;    // exceptions that escaped a loop handler
    std::string last_loop_error;

    // Bulk bytes the host threw away: hand-overs refused, assembler resyncs.
    std::uint64_t lost_bulk_bytes() const noexcept {
        return bulk.handover_dropped_bytes + bulk.assembler.dropped_bytes;
    }

    nlohmann::ordered_json to_json() const;
    // to_json() as one line; invalid UTF-8 from the guest becomes U+FFFD.
    // Its size follows from the limits: about max_kept_bytes plus escapes
    // (a control byte is 6 in JSON, an invalid byte 3) and a fixed part.
    std::string to_json_text() const;
};

}  // namespace ktstr::host
