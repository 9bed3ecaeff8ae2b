#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>

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
                            "kern_addrs", "crashes", "tests", "tests_passed", "tests_failed", "payload_metrics", "kept",
                            "snapshots", "host"})
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

namespace {

// What the recorder charges for `r` as kept: a fixed size per record and
// every kept text byte (RunLimits::max_kept_bytes).
std::uint64_t charged(const RunResult& r) {
    std::uint64_t n = 0;
    for (const auto& s : r.lifecycle)
        n += kept_record_cost + s.reason.size();
    for (const auto& c : r.crashes)
        n += kept_record_cost + c.size();
    for (const auto& t : r.tests) {
        n += kept_record_cost;
        for (const auto& d : t.details)
            n += kept_record_cost + d.kind.size() + d.message.size();
    }
    return n;
}

}  // namespace

TEST_CASE("run recorder: 2000 TEST frames with every detail at its limit stay within the byte budget") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_text_bytes = 256;
    limits.max_test_details = 16;
    limits.max_kept_bytes = 256 * 1024;
    RunRecorder r(t0, limits);

    // Every text above the per-text limit, more details than kept.
    TestResult big{false, {}};
    for (int i = 0; i < 20; ++i)
        big.details.push_back({std::string(300, 'k'), std::string(1000, 'm')});
    const auto failing = make(MsgType::TestResult, encode_json(big));
    big.passed = true;
    const auto passing = make(MsgType::TestResult, encode_json(big));
    for (int i = 0; i < 2000; ++i)
        r.record(Channel::bulk, i % 2 ? passing : failing, t0);
    r.record(Channel::bulk, make(MsgType::Crash, as_bytes("after the budget is spent")), t0);
    r.record(Channel::bulk, make(MsgType::Lifecycle, encode_lifecycle(LifecyclePhase::InitStarted, "late")), t0);

    const auto& res = r.result();
    const auto& k = res.kept;
    CHECK(res.tests_passed == 1000);  // every verdict counts, kept or not
    CHECK(res.tests_failed == 1000);
    CHECK(k.max_kept_bytes == limits.max_kept_bytes);
    CHECK(k.kept_bytes <= limits.max_kept_bytes);
    CHECK(k.kept_bytes == charged(res));
    // A full test costs 64 + 16 * (64 + 256 + 256) = 9280 bytes: 28 fit
    // whole, the 29th is cut short by the budget, the rest are dropped.
    CHECK(res.tests.size() == 29);
    CHECK(res.tests[0].details.size() == 16);
    CHECK(res.tests[0].details[0].message == std::string(256, 'm'));
    CHECK(res.tests[28].details.size() < 16);
    CHECK(k.dropped_tests == 2000 - 29);
    CHECK(k.dropped_crashes == 1);
    CHECK(k.dropped_lifecycle == 1);
    CHECK(res.crashes.empty());
    CHECK(res.lifecycle.empty());
    CHECK(k.over_budget >= k.dropped_tests + 2);
    CHECK(k.dropped_test_details >= 29 * 4);  // 4 over max_test_details in every kept test
    CHECK(res.records_truncated ==
          k.cut_texts + k.dropped_tests + k.dropped_test_details + k.dropped_crashes + k.dropped_lifecycle);
    // Every text byte of every frame was either kept or counted dropped.
    std::uint64_t records = res.tests.size();
    for (const auto& t : res.tests)
        records += t.details.size();
    const std::uint64_t kept_text = k.kept_bytes - kept_record_cost * records;
    CHECK(kept_text + k.dropped_bytes == 2000 * 20 * (300 + 1000) + 25 + 4);  // tests, the crash, "late"

    // The JSON says what was dropped, and is bounded by the budget.
    const auto text = res.to_json_text();
    CHECK(text.size() < 2 * limits.max_kept_bytes);
    const auto j = nlohmann::json::parse(text);
    CHECK(j["kept"]["kept_bytes"] == k.kept_bytes);
    CHECK(j["kept"]["max_kept_bytes"] == limits.max_kept_bytes);
    CHECK(j["kept"]["dropped"]["tests"] == 2000 - 29);
    CHECK(j["kept"]["dropped"]["crashes"] == 1);
    CHECK(j["kept"]["dropped"]["lifecycle"] == 1);
    CHECK(j["kept"]["dropped"]["test_details"] == k.dropped_test_details);
    CHECK(j["kept"]["over_budget"] == k.over_budget);
    CHECK(j["kept"]["oversize_tests"] == 0);
}

TEST_CASE("run recorder: a text cut to its limit does not keep the original's memory") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_crash_bytes = 4;
    limits.max_text_bytes = 5;
    RunRecorder r(t0, limits);
    r.record(Channel::bulk, make(MsgType::Crash, byte_buffer(1 << 20, 'c')), t0);
    r.record(Channel::bulk,
             make(MsgType::Lifecycle, encode_lifecycle(LifecyclePhase::SchedulerDied, std::string(1 << 20, 'r'))), t0);
    const auto& res = r.result();
    REQUIRE(res.crashes.size() == 1);
    CHECK(res.crashes[0] == "cccc");
    CHECK(res.crashes[0].capacity() < 64);  // not the 1 MiB it was cut from
    REQUIRE(res.lifecycle.size() == 1);
    CHECK(res.lifecycle[0].reason == "rrrrr");
    CHECK(res.lifecycle[0].reason.capacity() < 64);
    CHECK(res.kept.cut_texts == 2);
    CHECK(res.kept.over_budget == 0);  // cut by the per-text limits, not the budget
    CHECK(res.kept.dropped_bytes == (1 << 20) - 4 + (1 << 20) - 5);
    CHECK(res.kept.kept_bytes == 2 * kept_record_cost + 4 + 5);
}

TEST_CASE("run recorder: the budget cuts a text to what is left, then drops whole records") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_kept_bytes = 1000;
    RunRecorder r(t0, limits);
    r.record(Channel::bulk, make(MsgType::Crash, byte_buffer(2000, 'c')), t0);
    r.record(Channel::bulk, make(MsgType::Crash, as_bytes("x")), t0);
    r.record(Channel::bulk, make(MsgType::TestResult, encode_json(TestResult{true, {}})), t0);
    const auto& res = r.result();
    REQUIRE(res.crashes.size() == 1);
    CHECK(res.crashes[0].size() == 1000 - kept_record_cost);
    CHECK(res.kept.kept_bytes == 1000);
    CHECK(res.kept.dropped_crashes == 1);
    CHECK(res.kept.dropped_tests == 1);
    CHECK(res.tests_passed == 1);
    CHECK(res.kept.over_budget == 3);  // the cut and both drops
    CHECK(res.kept.dropped_bytes == 2000 - (1000 - kept_record_cost) + 1);
}

TEST_CASE("run recorder: a TEST payload above the cap is counted without being parsed") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_test_payload_bytes = 4096;
    RunRecorder r(t0, limits);

    // Well-formed up to the cap, garbage after it: decoding it would find
    // the garbage and count the payload invalid.
    std::string head = R"({"passed":true,"details":[)";
    std::string at_cap = head + std::string(4096 - head.size(), '\xff');
    std::string above = at_cap + "x";
    REQUIRE(above.size() == 4097);
    r.record(Channel::bulk, make(MsgType::TestResult, as_bytes(above)), t0);
    CHECK(r.result().kept.oversize_tests == 1);
    CHECK(r.result().invalid_payloads == 0);  // not decoded
    CHECK(r.result().kept.dropped_bytes == 4097);
    CHECK(r.result().tests_passed + r.result().tests_failed == 0);  // no verdict
    CHECK(r.result().records_truncated == 1);

    // At the cap it is decoded (and found invalid).
    r.record(Channel::bulk, make(MsgType::TestResult, as_bytes(at_cap)), t0);
    CHECK(r.result().kept.oversize_tests == 1);
    CHECK(r.result().invalid_payloads == 1);

    // A valid one at the cap is kept.
    TestResult t{true, {{"other", ""}}};
    const auto base = encode_json(t).size();
    t.details[0].message = std::string(4096 - base, 'm');
    REQUIRE(encode_json(t).size() == 4096);
    r.record(Channel::bulk, make(MsgType::TestResult, encode_json(t)), t0);
    CHECK(r.result().tests_passed == 1);
    CHECK(r.result().tests.size() == 1);
    CHECK(r.result().to_json()["kept"]["oversize_tests"] == 1);
}

TEST_CASE("run recorder: take_result moves the kept texts out, it does not copy them") {
    const auto t0 = RunRecorder::Clock::now();
    RunRecorder r(t0);
    r.record(Channel::bulk, make(MsgType::Crash, byte_buffer(1000, 'c')), t0);
    const char* text = r.result().crashes.at(0).data();
    const RunResult res = r.take_result();
    REQUIRE(res.crashes.size() == 1);
    CHECK(res.crashes[0].data() == text);  // the same buffer
    CHECK(res.kept.kept_bytes == kept_record_cost + 1000);
}
