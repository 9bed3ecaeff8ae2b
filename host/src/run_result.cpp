#include "ktstr/host/run_result.hpp"

#include <cmath>

#include "ktstr/common/json_line.hpp"
#include "optional_json.hpp"

namespace ktstr::host {
namespace {

using ojson = nlohmann::ordered_json;

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

ojson bulk_json(const BulkChannelStats& b) {
    return ojson{
        {"frames", b.assembler.frames},
        {"crc_errors", b.assembler.crc_errors},
        {"received_bytes", b.received_bytes},
        {"handover_dropped_bytes", b.handover_dropped_bytes},
        {"handover_dropped_chunks", b.handover_dropped_chunks},
        {"oversize_frames", b.assembler.oversize_frames},
        {"overflow_resets", b.assembler.overflow_resets},
        {"assembler_dropped_bytes", b.assembler.dropped_bytes},
        {"nonzero_pad", b.assembler.nonzero_pad},
        {"trailing_bytes", b.trailing_bytes},
        {"sent_bytes", b.sent_bytes},
        {"send_refused_bytes", b.send_refused_bytes},
    };
}

ojson shm_json(bool present, const ShmDrainStats& s) {
    return ojson{
        {"present", present},
        {"entries", s.entries},
        {"crc_errors", s.crc_errors},
        {"drops", s.drops},
        {"passes", s.passes},
        {"bad_header_passes", s.bad_header_passes},
        {"torn_length_passes", s.torn_length_passes},
        {"status_changes", s.status_changes},
        {"last_status", to_string(s.last_status)},
        {"last_error", s.last_error == RingDrainStatus::ok ? ojson(nullptr) : ojson(to_string(s.last_error))},
        {"bytes_pending", s.bytes_pending},
    };
}

ojson kept_json(const KeptStats& k) {
    return ojson{
        {"max_kept_bytes", k.max_kept_bytes},
        {"kept_bytes", k.kept_bytes},
        {"dropped_bytes", k.dropped_bytes},
        {"cut_texts", k.cut_texts},
        {"over_budget", k.over_budget},
        {"dropped", {{"lifecycle", k.dropped_lifecycle},
                     {"crashes", k.dropped_crashes},
                     {"tests", k.dropped_tests},
                     {"test_details", k.dropped_test_details},
                     {"payload_metrics", k.dropped_payload_metrics},
                     {"metrics", k.dropped_metrics}}},
        {"oversize_tests", k.oversize_tests},
        {"oversize_payload_metrics", k.oversize_payload_metrics},
    };
}

ojson test_json(const TestResult& t) {
    ojson details = ojson::array();
    for (const auto& d : t.details)
        details.push_back({{"kind", d.kind}, {"message", d.message}});
    return {{"passed", t.passed}, {"details", std::move(details)}};
}

// A value JSON cannot hold (NaN, infinity) is null, never a number it is not.
ojson payload_metrics_json(const PayloadMetrics& p) {
    ojson metrics = ojson::array();
    for (const auto& m : p.metrics)
        metrics.push_back({{"name", m.name},
                           {"value", std::isfinite(m.value) ? ojson(m.value) : ojson(nullptr)},
                           {"unit", m.unit}});
    return {{"payload_index", p.payload_index},
            {"payload", p.payload},
            {"exit_code", p.exit_code},
            {"metrics", std::move(metrics)}};
}

}  // namespace

nlohmann::ordered_json RunResult::to_json() const {
    ojson j;
    j["exit_code"] = optional_json(exit_code);
    j["guest_exit"] = optional_json(guest_exit);
    j["exec_exit"] = optional_json(exec_exit);
    j["sched_exit"] = optional_json(sched_exit);
    j["stopped_by_sched_exit"] = stopped_by_sched_exit;
    j["boot_time_ms"] = boot_time ? ojson(ms(*boot_time)) : ojson(nullptr);
    j["run_time_ms"] = ms(run_time);
    j["last_frame_ms"] = last_frame_time ? ojson(ms(*last_frame_time)) : ojson(nullptr);
    j["frames"] = frames;
    j["crc_errors"] = crc_errors;
    j["invalid_payloads"] = invalid_payloads;
    j["message_counts"] = ojson::object();
    for (const auto& [tag, n] : message_counts)
        j["message_counts"][tag] = n;
    j["shm_message_counts"] = ojson::object();
    for (const auto& [tag, n] : shm_message_counts)
        j["shm_message_counts"][tag] = n;
    j["bulk"] = bulk_json(bulk);
    j["shm"] = shm_json(shm_present, shm);
    // Messages the guest could not put in the ring, and bulk bytes the
    // host threw away (hand-over refused, assembler resynchronised).
    j["drops"] = shm.drops;
    j["lost_bulk_bytes"] = lost_bulk_bytes();

    ojson stages = ojson::array();
    for (const auto& s : lifecycle)
        stages.push_back({{"phase", static_cast<int>(s.phase)},
                          {"phase_name", lifecycle_phase_name(s.phase)},
                          {"reason", s.reason},
                          {"at_ms", ms(s.at)},
                          {"channel", to_string(s.channel)}});
    j["lifecycle"] = std::move(stages);

    if (kern_addrs) {
        ojson k{{"phys_base", kern_addrs->phys_base}, {"page_offset_base", kern_addrs->page_offset_base}};
        if (kern_addrs->kernel_text_kva)
            k["kernel_text_kva"] = *kern_addrs->kernel_text_kva;
        j["kern_addrs"] = std::move(k);
    } else {
        j["kern_addrs"] = nullptr;
    }
    j["crashes"] = crashes;
    ojson tj = ojson::array();
    for (const auto& t : tests)
        tj.push_back(test_json(t));
    j["tests"] = std::move(tj);
    j["tests_passed"] = tests_passed;
    j["tests_failed"] = tests_failed;
    ojson pm = ojson::array();
    for (const auto& p : payload_metrics)
        pm.push_back(payload_metrics_json(p));
    j["payload_metrics"] = std::move(pm);
    j["kept"] = kept_json(kept);
    j["snapshots"] = {{"requests", snapshots.requests},
                      {"captured", snapshots.captured},
                      {"errors", snapshots.errors},
                      {"malformed", snapshots.malformed},
                      {"replies_refused", snapshots.replies_refused},
                      {"shm_drain_holds", snapshots.shm_drain_holds},
                      {"shm_drain_releases", snapshots.shm_drain_releases},
                      {"bytes", snapshots.bytes},
                      {"capture_dirs", snapshots.capture_dirs}};
    j["host"] = {{"records_truncated", records_truncated},
                 {"handler_errors", handler_errors},
                 {"last_handler_error", last_handler_error},
                 {"output_errors", output_errors},
                 {"message_log_error", message_log_error},
                 {"message_log_left_out", message_log_left_out},
                 {"loop_errors", loop_errors},
                 {"last_loop_error", last_loop_error}};
    return j;
}

std::string RunResult::to_json_text() const {
    return json_line(to_json());
}

}  // namespace ktstr::host
