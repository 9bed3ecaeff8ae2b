#include <catch2/catch.hpp>

#include <string>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/host/run_recorder.hpp"
#include "ktstr/host/scheduler_report.hpp"

using namespace ktstr;
using namespace ktstr::host;

namespace {

SchedulerFate fate(SchedulerFate::Kind k) {
    SchedulerFate f;
    f.fate = k;
    f.program = "scx_qmap";
    f.ops = "qmap";
    return f;
}

// Feeds Lifecycle frames to a recorder, as the host loop does.
struct Recorder {
    RunRecorder r{RunRecorder::Clock::now()};
    void lifecycle(LifecyclePhase phase, const std::string& reason) {
        byte_buffer p{static_cast<std::uint8_t>(phase)};
        p.insert(p.end(), reason.begin(), reason.end());
        r.record(Channel::bulk, received_frame(make_frame_header(to_u32(MsgType::Lifecycle), p), p),
                 RunRecorder::Clock::now());
    }
};

}  // namespace

TEST_CASE("scheduler records: the first attach and the first end are kept, each only with its own phase") {
    Recorder rec;
    auto attached = fate(SchedulerFate::Kind::attached);
    attached.attached_ms = 1234;
    auto ejected = fate(SchedulerFate::Kind::ejected);
    ejected.kind = 1026;
    ejected.text = "runnable task stall (init[59] failed to run for 6.741s)";
    auto exited = fate(SchedulerFate::Kind::exited);
    exited.status = 0;

    rec.lifecycle(LifecyclePhase::SchedulerDied, format_fate(attached));    // attach in the wrong phase
    rec.lifecycle(LifecyclePhase::PayloadStarting, "/bin/sh");              // the command's start
    rec.lifecycle(LifecyclePhase::PayloadStarting, format_fate(ejected));   // an end in the wrong phase
    CHECK_FALSE(rec.r.result().scheduler.attached);
    CHECK_FALSE(rec.r.result().scheduler.end);
    rec.lifecycle(LifecyclePhase::PayloadStarting, format_fate(attached));
    rec.lifecycle(LifecyclePhase::SchedulerDied, format_fate(ejected));
    rec.lifecycle(LifecyclePhase::SchedulerDied, format_fate(exited));  // later: ignored
    const auto& s = rec.r.result().scheduler;
    REQUIRE(s.attached);
    CHECK(s.attached->attached_ms == 1234u);
    REQUIRE(s.end);
    CHECK(*s.end == ejected);
    CHECK(s.end_at >= s.attached_at);
}

TEST_CASE("scheduler report: outcomes, one line, JSON") {
    SchedulerRecords none;
    CHECK(report_scheduler(none, {"scx_simple", {}}).outcome == SchedulerOutcome::unknown);
    CHECK(report_scheduler(none, {"scx_simple", {}}).describe().empty());

    SchedulerRecords attached;
    attached.attached = fate(SchedulerFate::Kind::attached);
    attached.attached->attached_ms = 812;
    auto r = report_scheduler(attached, {"scx_simple", {"-v"}});
    CHECK(r.outcome == SchedulerOutcome::attached_at_end);
    CHECK_FALSE(r.failed());
    auto j = r.to_json();
    CHECK(j["fate"] == "attached at end");
    CHECK(j["attached_after_ms"] == 812);
    CHECK(j["args"] == nlohmann::ordered_json::array({"-v"}));
    CHECK(j["kind"].is_null());
    CHECK(j["log"].is_null());

    SchedulerRecords ejected = attached;
    ejected.end = fate(SchedulerFate::Kind::ejected);
    ejected.end->kind = 1025;
    ejected.end->after_ms = 3200;
    ejected.end->text = "scx_bpf_error (test triggering error)";
    r = report_scheduler(ejected, {"scx_qmap", {"-e", "100"}});
    r.log = "/out/scheduler.log";
    CHECK(r.failed());
    CHECK(r.describe() ==
          "scheduler scx_qmap was ejected after 3.2 s (ERROR_BPF, kind 1025): scx_bpf_error (test triggering error)");
    j = r.to_json();
    CHECK(j["fate"] == "ejected");
    CHECK(j["kind"] == 1025);
    CHECK(j["kind_name"] == "ERROR_BPF");
    CHECK(j["reason"] == "scx_bpf_error (test triggering error)");
    CHECK(j["ops"] == "qmap");
    CHECK(j["log"] == "/out/scheduler.log");
    CHECK(j["dump"].is_null());

    SchedulerRecords exited = attached;
    exited.end = fate(SchedulerFate::Kind::exited);
    exited.end->signal = 9;
    exited.end->after_ms = 500;
    r = report_scheduler(exited, {"scx_simple", {}});
    CHECK(r.describe() == "scheduler scx_simple was killed by signal 9 (SIGKILL) while the command ran, 0.5 s after "
                          "attaching, without being ejected");

    SchedulerRecords never;
    never.end = fate(SchedulerFate::Kind::never_attached);
    never.end->status = 1;
    never.end->state = "disabled";
    never.end->text = "libbpf: failed\nto load\x1b[2J\n";
    r = report_scheduler(never, {"fail-at-once", {}});
    CHECK(r.outcome == SchedulerOutcome::never_attached);
    // Its last line, escaped: no terminal control gets through.
    CHECK(r.describe() == "scheduler fail-at-once never attached: it exited with status 1 (sched_ext state disabled); "
                          "its last output: to load\\x1b[2J");
    never.end->status.reset();
    never.end->timeout_ms = 14000;
    never.end->text.clear();
    CHECK(report_scheduler(never, {"scx_slow", {}}).describe() ==
          "scheduler scx_slow never attached: not attached within 14.0 s (sched_ext state disabled)");
}
