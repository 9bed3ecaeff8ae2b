#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/structured.hpp"
#include "ktstr/host/run_recorder.hpp"

using namespace ktstr;
using namespace ktstr::host;
using namespace std::chrono_literals;

namespace {

Frame make(std::uint32_t type, byte_view payload, bool crc_ok = true) {
    Frame f;
    f.header = make_frame_header(type, payload);
    f.payload.assign(payload.begin(), payload.end());
    f.crc_ok = crc_ok;
    return f;
}
Frame make(MsgType t, byte_view payload, bool crc_ok = true) { return make(to_u32(t), payload, crc_ok); }

}  // namespace

TEST_CASE("run recorder: exit code from EXIT, else from EXCX") {
    const auto t0 = RunRecorder::Clock::now();
    SECTION("EXCX only") {
        RunRecorder r(t0);
        r.record(Channel::bulk, make(MsgType::ExecExit, encode_i32(5)), t0);
        CHECK(r.result().exit_code == std::optional<std::int32_t>(5));
    }
    SECTION("EXIT wins whichever comes first") {
        RunRecorder r(t0);
        r.record(Channel::bulk, make(MsgType::Exit, encode_i32(1)), t0);
        r.record(Channel::bulk, make(MsgType::ExecExit, encode_i32(5)), t0);
        CHECK(r.result().exit_code == std::optional<std::int32_t>(1));
        CHECK(r.result().exec_exit == std::optional<std::int32_t>(5));
    }
    SECTION("none") {
        RunRecorder r(t0);
        CHECK_FALSE(r.result().exit_code.has_value());
        CHECK(r.result().to_json()["exit_code"].is_null());
        CHECK(r.result().to_json()["last_frame_ms"].is_null());
    }
}

TEST_CASE("run recorder: counts, CRC errors, invalid payloads, boot time and stages") {
    const auto t0 = RunRecorder::Clock::now();
    RunRecorder r(t0);
    r.record(Channel::bulk, make(MsgType::Lifecycle, encode_lifecycle(LifecyclePhase::InitStarted, "pid 1")), t0 + 1ms);
    r.record(Channel::bulk, make(MsgType::SysRdy, {}), t0 + 250ms);
    r.record(Channel::bulk, make(MsgType::SysRdy, {}), t0 + 900ms);  // the first one counts
    r.record(Channel::shm, make(MsgType::Stdout, as_bytes("x")), t0);
    r.record(Channel::shm, make(MsgType::Stdout, as_bytes("y"), false), t0);
    r.record(Channel::bulk, make(MsgType::Exit, as_bytes("abc")), t0);       // 3 bytes: invalid
    r.record(Channel::bulk, make(MsgType::Lifecycle, as_bytes("\x09")), t0); // phase 9: invalid
    r.record(Channel::bulk, make(0x11111111u, as_bytes("?")), t0);
    r.record(Channel::bulk, make(0x22222222u, as_bytes("?")), t0);
    r.record(Channel::bulk, make(MsgType::KernAddrs, encode_kern_addrs(0x1000000, 0xffff888000000000)), t0);
    r.record(Channel::bulk, make(MsgType::Crash, as_bytes("panic at the disco")), t0);
    r.finish(t0 + 2s);

    const auto& res = r.result();
    CHECK(res.frames == 11);
    CHECK(res.crc_errors == 1);
    CHECK(res.invalid_payloads == 2);
    CHECK(res.message_counts.at("SOUT") == 2);
    CHECK(res.message_counts.at("SRDY") == 2);
    CHECK(res.message_counts.at("unknown") == 2);
    CHECK(res.shm_message_counts.at("SOUT") == 2);  // both came through the ring
    CHECK(res.shm_message_counts.count("SRDY") == 0);
    REQUIRE(res.boot_time.has_value());
    CHECK(*res.boot_time == 250ms);
    CHECK(res.run_time == 2s);
    CHECK(res.last_frame_time == std::chrono::nanoseconds(0));  // the last recorded frame came at t0
    REQUIRE(res.lifecycle.size() == 1);
    CHECK(res.lifecycle[0].phase == LifecyclePhase::InitStarted);
    CHECK(res.lifecycle[0].reason == "pid 1");
    REQUIRE(res.kern_addrs.has_value());
    CHECK(res.kern_addrs->phys_base == 0x1000000);
    CHECK(res.crashes == std::vector<std::string>{"panic at the disco"});
}

TEST_CASE("run recorder: test verdicts, bounded lists and deep JSON") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_tests = 2;
    limits.max_crashes = 1;
    limits.max_crash_bytes = 4;
    RunRecorder r(t0, limits);
    TestResult pass{true, {}};
    TestResult fail{false, {{"stall", "cpu 3 stalled"}}};
    r.record(Channel::bulk, make(MsgType::TestResult, encode_json(pass)), t0);
    r.record(Channel::bulk, make(MsgType::TestResult, encode_json(fail)), t0);
    r.record(Channel::bulk, make(MsgType::TestResult, encode_json(fail)), t0);  // beyond max_tests
    r.record(Channel::bulk, make(MsgType::TestResult, as_bytes(std::string(100000, '['))), t0);
    r.record(Channel::bulk, make(MsgType::Crash, as_bytes("long crash text")), t0);
    r.record(Channel::bulk, make(MsgType::Crash, as_bytes("second")), t0);

    const auto& res = r.result();
    CHECK(res.tests.size() == 2);
    CHECK(res.tests[1] == fail);
    CHECK(res.tests_passed == 1);
    CHECK(res.tests_failed == 2);
    CHECK(res.invalid_payloads == 1);  // the deep one, refused before parsing
    CHECK(res.crashes == std::vector<std::string>{"long"});
    CHECK(res.records_truncated == 3);  // one test, one crash text cut, one crash dropped
}

TEST_CASE("run result JSON carries the documented fields") {
    const auto t0 = RunRecorder::Clock::now();
    RunRecorder r(t0);
    r.record(Channel::bulk, make(MsgType::Exit, encode_i32(0)), t0);
    r.record(Channel::bulk, make(MsgType::SysRdy, {}), t0 + 10ms);
    r.record(Channel::bulk, make(MsgType::Crash, std::vector<std::uint8_t>{0xff, 0xfe}), t0);
    r.finish(t0 + 20ms);
    auto res = r.result();
    res.shm_present = true;
    res.shm.drops = 4;
    res.bulk.handover_dropped_bytes = 10;
    res.bulk.assembler.dropped_bytes = 5;

    const auto j = nlohmann::json::parse(res.to_json_text());  // invalid UTF-8 replaced: parses
    for (const char* key : {"exit_code", "guest_exit", "exec_exit", "sched_exit", "stopped_by_sched_exit",
                            "boot_time_ms", "run_time_ms", "last_frame_ms", "frames", "crc_errors", "invalid_payloads",
                            "message_counts", "shm_message_counts", "bulk", "shm", "drops", "lost_bulk_bytes", "lifecycle",
                            "kern_addrs", "crashes", "tests", "tests_passed", "tests_failed", "snapshots", "host"})
        CHECK(j.contains(key));
    for (const char* key : {"frames", "crc_errors", "received_bytes", "handover_dropped_bytes",
                            "handover_dropped_chunks", "oversize_frames", "overflow_resets",
                            "assembler_dropped_bytes", "nonzero_pad", "trailing_bytes", "sent_bytes",
                            "send_refused_bytes"})
        CHECK(j["bulk"].contains(key));
    for (const char* key : {"present", "entries", "crc_errors", "drops", "passes", "bad_header_passes",
                            "torn_length_passes", "status_changes", "last_status", "last_error", "bytes_pending"})
        CHECK(j["shm"].contains(key));
    CHECK(j["exit_code"] == 0);
    CHECK(j["boot_time_ms"] == Approx(10.0));
    CHECK(j["run_time_ms"] == Approx(20.0));
    CHECK(j["last_frame_ms"] == Approx(0.0));  // the crash frame, recorded last, at t0
    CHECK(j["drops"] == 4);
    CHECK(j["lost_bulk_bytes"] == 15);
    CHECK(j["message_counts"]["EXIT"] == 1);
    CHECK(j["shm"]["last_error"].is_null());
}
