// PMET frames in the run result: kept in arrival order, bounded per payload
// and in number, charged to the same byte budget as the rest, and oversize
// payloads counted without being decoded.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/structured.hpp"
#include "ktstr/host/run_recorder.hpp"

using namespace ktstr;
using namespace ktstr::host;

namespace {

Frame pmet_frame(byte_view payload, bool crc_ok = true) {
    Frame f;
    f.header = make_frame_header(to_u32(MsgType::PayloadMetrics), payload);
    f.payload.assign(payload.begin(), payload.end());
    f.crc_ok = crc_ok;
    return f;
}

PayloadMetrics sample(std::uint64_t index, std::size_t n_metrics) {
    PayloadMetrics p{index, "workload", 0, {}};
    for (std::size_t i = 0; i < n_metrics; ++i)
        p.metrics.push_back({"group.g.m" + std::to_string(i), static_cast<double>(i), "count"});
    return p;
}

std::uint64_t charged(const RunResult& r) {
    std::uint64_t n = 0;
    for (const auto& p : r.payload_metrics) {
        n += kept_metric_record_cost + p.payload.size();
        for (const auto& m : p.metrics)
            n += kept_metric_record_cost + m.name.size() + m.unit.size();
    }
    return n;
}

}  // namespace

TEST_CASE("run recorder: PMET payloads are kept in order and appear in the JSON") {
    const auto t0 = RunRecorder::Clock::now();
    RunRecorder r(t0);
    r.record(Channel::bulk, pmet_frame(encode_json(sample(1, 2))), t0);
    PayloadMetrics second{2, "other", 3, {{"lat", 12.5, "us"}, {"huge", 0, "x"}}};
    r.record(Channel::bulk, pmet_frame(encode_json(second)), t0);

    r.record(Channel::bulk, pmet_frame(as_bytes("{not json")), t0);           // invalid
    r.record(Channel::bulk, pmet_frame(encode_json(sample(9, 1)), false), t0);  // bad CRC: not decoded

    const auto& res = r.result();
    REQUIRE(res.payload_metrics.size() == 2);
    CHECK(res.payload_metrics[0] == sample(1, 2));
    CHECK(res.payload_metrics[1].payload == "other");
    CHECK(res.payload_metrics[1].exit_code == 3);
    CHECK(res.invalid_payloads == 1);
    CHECK(res.kept.kept_bytes == charged(res));

    const auto j = nlohmann::json::parse(res.to_json_text());
    REQUIRE(j["payload_metrics"].size() == 2);
    CHECK(j["payload_metrics"][0]["payload_index"] == 1);
    CHECK(j["payload_metrics"][0]["payload"] == "workload");
    CHECK(j["payload_metrics"][0]["metrics"][1]["name"] == "group.g.m1");
    CHECK(j["payload_metrics"][0]["metrics"][1]["value"] == 1.0);
    CHECK(j["payload_metrics"][0]["metrics"][1]["unit"] == "count");
    CHECK(j["payload_metrics"][1]["metrics"][0]["value"] == 12.5);
    CHECK(j["kept"]["dropped"]["payload_metrics"] == 0);
    CHECK(j["kept"]["oversize_payload_metrics"] == 0);
}

TEST_CASE("run recorder: too many PMET payloads and metrics are dropped and counted") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_payload_metrics = 3;
    limits.max_metrics_per_payload = 5;
    RunRecorder r(t0, limits);
    for (std::uint64_t i = 0; i < 10; ++i)
        r.record(Channel::bulk, pmet_frame(encode_json(sample(i, 8))), t0);

    const auto& res = r.result();
    REQUIRE(res.payload_metrics.size() == 3);
    for (const auto& p : res.payload_metrics)
        CHECK(p.metrics.size() == 5);
    CHECK(res.payload_metrics[2].payload_index == 2);
    CHECK(res.kept.dropped_payload_metrics == 7);
    CHECK(res.kept.dropped_metrics == 3 * 3);
    CHECK(res.kept.over_budget == 0);
    CHECK(res.records_truncated == 7 + 9);
    CHECK(res.kept.kept_bytes == charged(res));
    const auto j = res.to_json();
    CHECK(j["kept"]["dropped"]["payload_metrics"] == 7);
    CHECK(j["kept"]["dropped"]["metrics"] == 9);
}

TEST_CASE("run recorder: a hostile stream of PMET payloads stays within the byte budget") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_kept_bytes = 64 * 1024;
    RunRecorder r(t0, limits);
    // Each payload just under the decode cap, with long names cut to the
    // text limit: far more than the budget in total.
    PayloadMetrics p{0, std::string(10000, 'p'), 0, {}};
    for (int i = 0; i < 100; ++i)
        p.metrics.push_back({std::string(8000, 'n'), 1.0, std::string(100, 'u')});
    REQUIRE(encode_json(p).size() < limits.max_payload_metrics_bytes);
    for (int i = 0; i < 50; ++i)
        r.record(Channel::bulk, pmet_frame(encode_json(p)), t0);

    const auto& res = r.result();
    CHECK(res.kept.kept_bytes <= limits.max_kept_bytes);
    CHECK(res.kept.kept_bytes == charged(res));
    CHECK(res.kept.over_budget > 0);
    CHECK(res.kept.dropped_payload_metrics > 0);
    CHECK_FALSE(res.payload_metrics.empty());
    CHECK(res.payload_metrics[0].payload.size() == limits.max_text_bytes);
    CHECK(res.payload_metrics[0].metrics[0].name.size() == limits.max_text_bytes);
    CHECK(res.to_json_text().size() < 2 * limits.max_kept_bytes);
}

TEST_CASE("run recorder: a PMET payload above the cap is counted without being parsed") {
    const auto t0 = RunRecorder::Clock::now();
    RunLimits limits;
    limits.max_payload_metrics_bytes = 4096;
    RunRecorder r(t0, limits);
    std::string head = R"({"payload_index":1,"metrics":[)";
    std::string at_cap = head + std::string(4096 - head.size(), '\xff');
    std::string above = at_cap + "x";
    r.record(Channel::bulk, pmet_frame(as_bytes(above)), t0);
    CHECK(r.result().kept.oversize_payload_metrics == 1);
    CHECK(r.result().invalid_payloads == 0);  // not decoded
    CHECK(r.result().kept.dropped_bytes == 4097);
    CHECK(r.result().records_truncated == 1);
    CHECK(r.result().payload_metrics.empty());

    r.record(Channel::bulk, pmet_frame(as_bytes(at_cap)), t0);  // decoded, and refused
    CHECK(r.result().kept.oversize_payload_metrics == 1);
    CHECK(r.result().invalid_payloads == 1);
    CHECK(r.result().to_json()["kept"]["oversize_payload_metrics"] == 1);
}
