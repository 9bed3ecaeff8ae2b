#include <catch2/catch.hpp>

#include "ktstr/common/payloads.hpp"
#include "ktstr/common/structured.hpp"

using namespace ktstr;

TEST_CASE("stimulus payload round-trips at its 24-byte layout", "[payloads]") {
    StimulusPayload p{1234, 7, 3, 0xA5A5, 12, 64, 0x0102030405060708ULL};
    auto b = encode(p);
    CHECK(b[0] == 0xD2);  // 1234 LE
    CHECK(b[4] == 7);
    CHECK(b[6] == 3);
    CHECK(b[16] == 0x08);
    CHECK(b[23] == 0x01);
    auto back = decode_stimulus(b);
    REQUIRE(back);
    CHECK(*back == p);
}

TEST_CASE("stimulus decode: short rejected, exact and oversized accepted", "[payloads]") {
    std::array<std::uint8_t, 32> big{};
    big[0] = 9;
    CHECK_FALSE(decode_stimulus(byte_view(big.data(), 0)));
    CHECK_FALSE(decode_stimulus(byte_view(big.data(), 23)));
    REQUIRE(decode_stimulus(byte_view(big.data(), 24)));
    auto over = decode_stimulus(byte_view(big.data(), 32));
    REQUIRE(over);
    CHECK(over->elapsed_ms == 9);
}

TEST_CASE("snapshot payloads are 72 bytes with NUL-padded text", "[payloads]") {
    SnapshotRequestPayload rq{42, static_cast<std::uint32_t>(SnapshotKind::Capture), make_padded_text("after-step-3")};
    auto b = encode(rq);
    CHECK(b.size() == 72);
    CHECK(b[0] == 42);
    CHECK(b[4] == 1);
    CHECK(b[8] == 'a');
    CHECK(b[8 + 12] == 0);
    auto back = decode_snapshot_request(b);
    REQUIRE(back);
    CHECK(back->request_id == 42);
    CHECK(padded_text(back->tag) == "after-step-3");
    CHECK_FALSE(decode_snapshot_request(byte_view(b.data(), 71)));

    SnapshotReplyPayload rp{42, static_cast<std::uint32_t>(SnapshotStatus::Err), make_padded_text("unknown kind")};
    auto rb = encode(rp);
    auto rback = decode_snapshot_reply(rb);
    REQUIRE(rback);
    CHECK(rback->status == 2);
    CHECK(padded_text(rback->reason) == "unknown kind");
}

TEST_CASE("padded text truncates at 64 bytes on a UTF-8 boundary", "[payloads]") {
    std::string s(63, 'x');
    s += "\xC3\xA9";  // 'é' straddles byte 64
    auto f = make_padded_text(s);
    CHECK(padded_text(f) == std::string(63, 'x'));
    auto full = make_padded_text(std::string(64, 'y'));
    CHECK(padded_text(full) == std::string(64, 'y'));
}

TEST_CASE("lifecycle phases 1..4 accepted, 0 and 5 rejected", "[payloads]") {
    auto b = encode_lifecycle(LifecyclePhase::PayloadStarting, "stress-ng");
    auto l = decode_lifecycle(b);
    REQUIRE(l);
    CHECK(l->phase == LifecyclePhase::PayloadStarting);
    CHECK(l->reason == "stress-ng");
    for (int ph = 1; ph <= 4; ++ph) {
        std::array<std::uint8_t, 1> one{static_cast<std::uint8_t>(ph)};
        CHECK(decode_lifecycle(one));
    }
    std::array<std::uint8_t, 1> zero{0}, five{5};
    CHECK_FALSE(decode_lifecycle(zero));
    CHECK_FALSE(decode_lifecycle(five));
    CHECK_FALSE(decode_lifecycle({}));
}

TEST_CASE("kern addrs carry phys_base + 1", "[payloads]") {
    auto b = encode_kern_addrs(0, 0xffff888000000000ULL);
    CHECK(b[0] == 1);
    auto k = decode_kern_addrs(b);
    REQUIRE(k);
    CHECK(k->phys_base == 0);
    CHECK(k->page_offset_base == 0xffff888000000000ULL);
    CHECK_FALSE(k->kernel_text_kva);

    std::array<std::uint8_t, 16> unknown{};
    CHECK_FALSE(decode_kern_addrs(unknown));
    std::array<std::uint8_t, 24> upstream{};
    upstream[0] = 0x01;   // phys_base 0x1000000 + 1
    upstream[3] = 0x01;
    upstream[16] = 0x01;  // kernel_text_kva 0 + 1
    auto u = decode_kern_addrs(upstream);
    REQUIRE(u);
    CHECK(u->phys_base == 0x1000000);
    CHECK(u->kernel_text_kva == 0u);
    CHECK_FALSE(decode_kern_addrs(byte_view(upstream.data(), 20)));
}

TEST_CASE("exit codes and elapsed ms are exact-size LE", "[payloads]") {
    auto e = encode_i32(-1);
    CHECK(e == std::array<std::uint8_t, 4>{0xff, 0xff, 0xff, 0xff});
    CHECK(decode_i32(e) == -1);
    CHECK_FALSE(decode_i32(byte_view(e.data(), 3)));
    auto u = encode_u64(1500);
    CHECK(decode_u64(u) == 1500u);
    CHECK_FALSE(decode_u64(byte_view(u.data(), 4)));
}

TEST_CASE("structured payloads round-trip as JSON and reject garbage", "[payloads]") {
    TestResult t{false, {{"stall", "cpu 3 stalled for 2s"}, {"other", "x\"y"}}};
    auto tb = encode_json(t);
    CHECK(tb.front() == '{');
    CHECK(decode_test_result(tb) == t);

    PayloadMetrics m{7, "schbench", 0, {{"p99_wakeup_us", 123.5, "us"}}};
    CHECK(decode_payload_metrics(encode_json(m)) == m);

    RawPayloadOutput r{7, "out", "err"};
    CHECK(decode_raw_payload_output(encode_json(r)) == r);

    std::string garbage = "{\"passed\": 3}";
    CHECK_FALSE(decode_test_result(as_bytes(garbage)));
    std::string not_json = "\xff\xfe{";
    CHECK_FALSE(decode_test_result(as_bytes(not_json)));
    std::string array = "[1,2]";
    CHECK_FALSE(decode_payload_metrics(as_bytes(array)));
    std::string bad_code = R"({"payload_index": 1, "exit_code": 99999999999})";
    CHECK_FALSE(decode_payload_metrics(as_bytes(bad_code)));
}
