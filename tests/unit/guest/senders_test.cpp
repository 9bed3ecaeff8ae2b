#include <catch2/catch.hpp>

#include "guest_sandbox.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/structured.hpp"
#include "ktstr/guest/senders.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using ktstr::test::GuestSandbox;

TEST_CASE("every typed sender frames its type with the documented payload", "[guest][senders]") {
    GuestSandbox sb;
    sb.attach_port();
    TestResult tr{false, {{"stall", "cpu 3 stalled"}}};
    PayloadMetrics pm{7, "schbench", 0, {{"p99", 12.5, "us"}}};
    RawPayloadOutput raw{3, "out", "err"};
    StimulusPayload st{1, 2, 3, 4, 5, 6, 7};
    const std::array<std::uint8_t, 3> bytes{1, 2, 3};

    REQUIRE(send_exit(5));
    REQUIRE(send_test_result(tr));
    REQUIRE(send_payload_metrics(pm));
    REQUIRE(send_profraw(bytes));
    REQUIRE(send_stimulus(st));
    REQUIRE(send_raw_payload_output(raw));
    REQUIRE(send_sched_exit(-1));
    REQUIRE(send_scenario_start());
    REQUIRE(send_scenario_end(1500));
    REQUIRE(send_scenario_pause());
    REQUIRE(send_scenario_resume());
    REQUIRE(send_sys_rdy());
    REQUIRE(send_kern_addrs(0, 0xffff888000000000ull));
    REQUIRE(send_stdout_chunk(as_bytes("o")));
    REQUIRE(send_stderr_chunk(as_bytes("e")));
    REQUIRE(send_sched_log(as_bytes("l")));
    REQUIRE(send_dmesg(as_bytes("d")));
    REQUIRE(send_probe_output(as_bytes("p")));
    REQUIRE(send_lifecycle(LifecyclePhase::SchedulerNotAttached, "verifier rejected"));
    REQUIRE(send_exec_exit(127));

    auto f = ktstr::test::read_frames(sb.host(), 20);
    REQUIRE(f.size() == 20);
    for (const auto& fr : f)
        CHECK(fr.crc_ok);
    auto type = [&](std::size_t i) { return tag_of(f[i].msg_type()); };
    CHECK(type(0) == "EXIT");
    CHECK(decode_i32(f[0].payload) == 5);
    CHECK(type(1) == "TEST");
    CHECK(decode_test_result(f[1].payload) == tr);
    CHECK(type(2) == "PMET");
    CHECK(decode_payload_metrics(f[2].payload) == pm);
    CHECK(type(3) == "PRAW");
    CHECK(f[3].payload == byte_buffer(bytes.begin(), bytes.end()));
    CHECK(type(4) == "STIM");
    CHECK(decode_stimulus(f[4].payload) == st);
    CHECK(type(5) == "RAWO");
    CHECK(decode_raw_payload_output(f[5].payload) == raw);
    CHECK(type(6) == "SCDX");
    CHECK(decode_i32(f[6].payload) == -1);
    CHECK(type(7) == "SCST");
    CHECK(f[7].payload.empty());
    CHECK(type(8) == "SCEN");
    CHECK(decode_u64(f[8].payload) == 1500u);
    CHECK(type(9) == "SCPP");
    CHECK(type(10) == "SCRR");
    CHECK(type(11) == "SRDY");
    CHECK(f[11].payload.empty());
    CHECK(type(12) == "KADR");
    CHECK(f[12].payload.size() == 16);
    CHECK(load_le<std::uint64_t>(f[12].payload.data()) == 1u);  // phys_base 0, biased by one
    CHECK(type(13) == "SOUT");
    CHECK(ktstr::test::text(f[13]) == "o");
    CHECK(type(14) == "SERR");
    CHECK(type(15) == "SCLG");
    CHECK(type(16) == "DMSG");
    CHECK(type(17) == "PROB");
    CHECK(type(18) == "LIFE");
    auto life = decode_lifecycle(f[18].payload);
    REQUIRE(life);
    CHECK(life->phase == LifecyclePhase::SchedulerNotAttached);
    CHECK(life->reason == "verifier rejected");
    CHECK(type(19) == "EXCX");
    CHECK(decode_i32(f[19].payload) == 127);
}

TEST_CASE("an oversize test result becomes a failing verdict saying so", "[guest][senders]") {
    TestResult big{true, {}};
    for (int i = 0; i < 100; ++i)
        big.details.push_back({"other", std::string(100, 'x')});
    auto full = encode_json(big);
    CHECK(encode_test_result_capped(big, full.size()) == full);  // at the cap: unchanged

    auto capped = encode_test_result_capped(big, full.size() - 1);
    auto r = decode_test_result(capped);
    REQUIRE(r);
    CHECK_FALSE(r->passed);
    REQUIRE(r->details.size() == 1);
    CHECK(r->details[0].kind == "other");
    CHECK_THAT(r->details[0].message, Catch::Contains(std::to_string(full.size())));
    CHECK_THAT(r->details[0].message, Catch::Contains("original details dropped"));
}
