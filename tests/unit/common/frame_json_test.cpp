#include <catch2/catch.hpp>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/frame_json.hpp"
#include "ktstr/common/json_line.hpp"
#include "ktstr/common/json_nesting.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/structured.hpp"

using namespace ktstr;

TEST_CASE("EXIT frame in the decode JSON form", "[json]") {
    auto p = encode_i32(0);
    auto j = frame_to_json(
        received_frame(make_frame_header(to_u32(MsgType::Exit), p), byte_buffer(p.begin(), p.end())));
    CHECK(j.dump() == R"({"type":"EXIT","msg_type":1163413844,"length":4,"crc_ok":true,"payload_hex":"00000000","fields":{"code":0}})");
}

TEST_CASE("unknown type has null type and empty fields", "[json]") {
    const byte_buffer p{0xAB, 0x01};
    auto j = frame_to_json(received_frame(FrameHeader{0x41424344, 2, 0, 0}, p));  // CRC 0: wrong for these bytes
    CHECK(j["type"].is_null());
    CHECK(j["payload_hex"] == "ab01");
    CHECK(j["fields"].empty());
    CHECK(j["crc_ok"] == false);
}

TEST_CASE("fields of each fixed payload", "[json]") {
    auto f = payload_fields(to_u32(MsgType::ScenarioEnd), encode_u64(1500));
    CHECK(f["elapsed_ms"] == 1500);
    auto l = payload_fields(to_u32(MsgType::Lifecycle), encode_lifecycle(LifecyclePhase::InitStarted, "hi"));
    CHECK(l["phase"] == 1);
    CHECK(l["phase_name"] == "InitStarted");
    CHECK(l["reason"] == "hi");
    auto k = payload_fields(to_u32(MsgType::KernAddrs), encode_kern_addrs(0x200000, 0xffff888000000000ULL));
    CHECK(k["phys_base"] == 0x200000);
    auto s = payload_fields(to_u32(MsgType::Stimulus), encode(StimulusPayload{1, 2, 3, 4, 5, 6, 7}));
    CHECK(s["total_iterations"] == 7);
    SnapshotRequestPayload rq{5, 99, make_padded_text("t")};
    auto r = payload_fields(to_u32(MsgType::SnapshotRequest), encode(rq));
    CHECK(r["kind_name"] == "unknown");
    CHECK(r["tag"] == "t");
    auto t = payload_fields(to_u32(MsgType::TestResult), encode_json(TestResult{true, {}}));
    CHECK(t["passed"] == true);
    std::string crash = "panic at x";
    CHECK(payload_fields(to_u32(MsgType::Crash), as_bytes(crash))["text"] == crash);
}

TEST_CASE("malformed fixed payloads give an error field, not an exception", "[json]") {
    std::array<std::uint8_t, 3> three{};
    CHECK(payload_fields(to_u32(MsgType::Exit), three).contains("error"));
    CHECK(payload_fields(to_u32(MsgType::SysRdy), three).contains("error"));
    CHECK(payload_fields(to_u32(MsgType::Lifecycle), std::array<std::uint8_t, 1>{0}).contains("error"));
    CHECK(payload_fields(to_u32(MsgType::KernAddrs), std::array<std::uint8_t, 16>{}).contains("error"));
    CHECK(payload_fields(to_u32(MsgType::TestResult), three).contains("error"));
    SnapshotRequestPayload none{1, 0, {}};
    CHECK(payload_fields(to_u32(MsgType::SnapshotRequest), encode(none)).contains("error"));
}

TEST_CASE("invalid UTF-8 in text fields still dumps", "[json]") {
    std::string bad = "\xff\xfe";
    auto j = frame_to_json(
        received_frame(make_frame_header(to_u32(MsgType::Crash), as_bytes(bad)), byte_buffer(bad.begin(), bad.end())));
    CHECK_NOTHROW(json_line(j));
}

TEST_CASE("deeply nested guest JSON is refused, not recursed into", "[json]") {
    // 200 000 levels would overflow the stack inside nlohmann-json.
    std::string deep = R"({"passed":true,"details":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
    const byte_view p(reinterpret_cast<const std::uint8_t*>(deep.data()), deep.size());
    auto j = frame_to_json(
        received_frame(make_frame_header(to_u32(MsgType::TestResult), p), byte_buffer(p.begin(), p.end())));
    const std::string err = j["fields"]["error"];
    CHECK(err.find("nests deeper than") != std::string::npos);
    CHECK_FALSE(decode_test_result(p));

    // The limit is exact, and brackets inside strings do not count.
    std::string ok = std::string(64, '[') + std::string(64, ']');
    CHECK(json_nesting_within(byte_view(reinterpret_cast<const std::uint8_t*>(ok.data()), ok.size())));
    std::string over = std::string(65, '[') + std::string(65, ']');
    CHECK_FALSE(json_nesting_within(byte_view(reinterpret_cast<const std::uint8_t*>(over.data()), over.size())));
    std::string quoted = "{\"a\":\"" + std::string(100, '[') + "\\\"\"}";
    CHECK(json_nesting_within(byte_view(reinterpret_cast<const std::uint8_t*>(quoted.data()), quoted.size()), 1));
}

TEST_CASE("a JSON payload above the decode cap is reported, not parsed", "[json]") {
    // Valid JSON up to the cap, garbage after it: parsing would say "not a
    // JSON object"; the cap answers first.
    std::string text = "{\"passed\":true,\"details\":[]}";
    text.resize(max_decoded_json_payload + 1, ' ');
    text.back() = '!';
    const auto f = payload_fields(to_u32(MsgType::TestResult), as_bytes(text));
    REQUIRE(f.contains("error"));
    CHECK(f["error"] == "payload of 1048577 bytes not decoded (above 1048576)");
    text.resize(max_decoded_json_payload);
    CHECK_FALSE(payload_fields(to_u32(MsgType::TestResult), as_bytes(text)).contains("error"));
}
