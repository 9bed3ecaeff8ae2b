#include <catch2/catch.hpp>

#include <thread>

#include "guest_sandbox.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/guest/snapshot_client.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::GuestSandbox;

namespace {

struct Pipe {
    UniqueFd r, w;
    Pipe() {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        r.reset(p[0]);
        w.reset(p[1]);
    }
};

void write_all(int fd, byte_view b) {
    while (!b.empty()) {
        ssize_t n = ::write(fd, b.data(), b.size());
        REQUIRE(n > 0);
        b = b.subspan(static_cast<std::size_t>(n));
    }
}

byte_buffer header_bytes(std::uint32_t type, std::uint32_t length, std::uint32_t crc) {
    byte_buffer h(frame_header_size);
    encode_frame_header({type, length, crc, 0}, std::span<std::uint8_t, frame_header_size>(h.data(), frame_header_size));
    return h;
}

byte_buffer reply_frame(std::uint32_t id, SnapshotStatus status, std::string_view reason = "") {
    SnapshotReplyPayload p;
    p.request_id = id;
    p.status = static_cast<std::uint32_t>(status);
    p.reason = make_padded_text(reason);
    return encode_frame(to_u32(MsgType::SnapshotReply), encode(p));
}

SteadyTime in(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

// The host side of one exchange: reads one SnapshotRequest from `fd`,
// then writes what `respond` returns for it.
template <typename F>
std::thread fake_host(int fd, F respond) {
    return std::thread([fd, respond] {
        auto frames = ktstr::test::read_frames(fd, 1, 10s);
        if (frames.size() != 1 || frames[0].msg_type() != to_u32(MsgType::SnapshotRequest))
            return;
        auto rq = decode_snapshot_request(frames[0].payload);
        if (!rq)
            return;
        auto bytes = respond(*rq);
        if (!bytes.empty())
            write_all(fd, bytes);
    });
}

}  // namespace

TEST_CASE("a reply header with a huge length is rejected before allocation", "[guest][snapshot]") {
    Pipe p;
    write_all(p.w.get(), header_bytes(to_u32(MsgType::SnapshotReply), 0xFFFFFFFFu, 0));
    p.w.reset();  // nothing follows: reading a payload would hit end of file
    auto out = read_reply_frame(p.r.get(), in(5s));
    CHECK(out.failure == ReadFailure::invalid_data);
    CHECK_THAT(out.message, Catch::Contains("exceeds max payload"));
    CHECK(out.frame.payload.capacity() == 0);
}

TEST_CASE("a reply one byte above the reply size is rejected; exactly 72 is read", "[guest][snapshot]") {
    Pipe p;
    write_all(p.w.get(), header_bytes(to_u32(MsgType::SnapshotReply), 73, 0));
    CHECK(read_reply_frame(p.r.get(), in(5s)).failure == ReadFailure::invalid_data);

    Pipe q;
    write_all(q.w.get(), reply_frame(9, SnapshotStatus::Ok));
    auto out = read_reply_frame(q.r.get(), in(5s));
    REQUIRE(out.failure == ReadFailure::none);
    CHECK(out.frame.msg_type() == to_u32(MsgType::SnapshotReply));
    CHECK(out.frame.payload.size() == max_reply_payload);
}

TEST_CASE("a reply with a wrong CRC is rejected", "[guest][snapshot]") {
    Pipe p;
    auto f = reply_frame(1, SnapshotStatus::Ok);
    f[frame_header_size + 20] ^= 0x01;
    write_all(p.w.get(), f);
    auto out = read_reply_frame(p.r.get(), in(5s));
    CHECK(out.failure == ReadFailure::invalid_data);
    CHECK_THAT(out.message, Catch::Contains("CRC"));
}

TEST_CASE("bounded reads assemble a frame that arrives in pieces", "[guest][snapshot]") {
    Pipe p;
    auto f = reply_frame(4, SnapshotStatus::Err, "no");
    std::thread writer([&] {
        // Cuts inside the header, at its end, and inside the payload.
        const std::array<std::size_t, 5> cuts{0, 3, 16, 50, f.size()};
        for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
            write_all(p.w.get(), byte_view(f).subspan(cuts[i], cuts[i + 1] - cuts[i]));
            std::this_thread::sleep_for(3ms);
        }
    });
    auto out = read_reply_frame(p.r.get(), in(10s));
    writer.join();
    REQUIRE(out.failure == ReadFailure::none);
    auto r = decode_snapshot_reply(out.frame.payload);
    REQUIRE(r);
    CHECK(r->request_id == 4);
    CHECK(padded_text(r->reason) == "no");
}

TEST_CASE("bounded reads stop at the deadline and at end of file", "[guest][snapshot]") {
    Pipe p;
    std::array<std::uint8_t, 4> buf{};
    std::string msg;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(bounded_read_exact(p.r.get(), buf, t0 + 30ms, msg) == ReadFailure::timed_out);
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 30ms);  // never returns early
    CHECK(took < 10s);    // and does not hang
    write_all(p.w.get(), byte_view(buf).first(2));
    p.w.reset();
    CHECK(bounded_read_exact(p.r.get(), buf, in(5s), msg) == ReadFailure::end_of_file);
    CHECK_THAT(msg, Catch::Contains("2 of 4"));
}

TEST_CASE("snapshot requests outside a guest fail without sending", "[guest][snapshot]") {
    GuestSandbox sb("console=ttyS0");
    sb.attach_port();
    auto r = request_snapshot(1, "t", 10ms);
    CHECK(r.status == SnapshotResult::Status::transport_error);
    CHECK(r.request_id == 0);
    CHECK_FALSE(ktstr::test::readable(sb.host()));
}

TEST_CASE("a request skips other types, malformed and stale replies", "[guest][snapshot]") {
    GuestSandbox sb;
    sb.attach_port();
    SnapshotRequestPayload seen{};
    auto host = fake_host(sb.host(), [&](const SnapshotRequestPayload& rq) {
        seen = rq;
        byte_buffer out;
        auto add = [&](const byte_buffer& b) { out.insert(out.end(), b.begin(), b.end()); };
        add(encode_frame(to_u32(MsgType::Stdout), as_bytes("not a reply")));
        add(encode_frame(to_u32(MsgType::SnapshotReply), as_bytes("short")));
        add(reply_frame(rq.request_id + 1000, SnapshotStatus::Err, "stale"));
        add(reply_frame(rq.request_id, SnapshotStatus::Ok));
        return out;
    });
    const std::string long_tag(100, 't');
    auto r = request_snapshot(static_cast<std::uint32_t>(SnapshotKind::Capture), long_tag, 10s);
    host.join();
    CHECK(r.status == SnapshotResult::Status::ok);
    CHECK(r.request_id != 0);
    CHECK(r.request_id == seen.request_id);
    CHECK(seen.kind == 1);
    CHECK(padded_text(seen.tag) == std::string(64, 't'));
}

TEST_CASE("an ERR reply gives its reason; ids increase and are never 0", "[guest][snapshot]") {
    GuestSandbox sb;
    sb.attach_port();
    std::uint32_t last = 0;
    for (int i = 0; i < 3; ++i) {
        auto host = fake_host(sb.host(), [](const SnapshotRequestPayload& rq) {
            return reply_frame(rq.request_id, SnapshotStatus::Err, "unknown kind " + std::to_string(rq.kind));
        });
        auto r = request_snapshot(99, "x", 10s);
        host.join();
        CHECK(r.status == SnapshotResult::Status::host_error);
        CHECK(r.reason == "unknown kind 99");
        CHECK(r.request_id > last);
        last = r.request_id;
    }
}

TEST_CASE("no reply: the request returns a transport error after its deadline", "[guest][snapshot]") {
    GuestSandbox sb;
    sb.attach_port();
    auto host = fake_host(sb.host(), [](const SnapshotRequestPayload&) { return byte_buffer{}; });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = request_snapshot(1, "late", 100ms);
    const auto took = std::chrono::steady_clock::now() - t0;
    host.join();
    CHECK(r.status == SnapshotResult::Status::transport_error);
    CHECK_THAT(r.reason, Catch::Contains("within 100 ms"));
    CHECK(took >= 100ms);
    CHECK(took < 10s);
}

TEST_CASE("a hostile reply length or status is a transport error", "[guest][snapshot]") {
    GuestSandbox sb;
    sb.attach_port();
    {
        auto host = fake_host(sb.host(), [](const SnapshotRequestPayload&) {
            return header_bytes(to_u32(MsgType::SnapshotReply), 0xFFFFFFF0u, 0);
        });
        auto r = request_snapshot(1, "", 10s);
        host.join();
        CHECK(r.status == SnapshotResult::Status::transport_error);
        CHECK_THAT(r.reason, Catch::Contains("exceeds max payload"));
    }
    {
        auto host = fake_host(sb.host(), [](const SnapshotRequestPayload& rq) {
            return reply_frame(rq.request_id, static_cast<SnapshotStatus>(7));
        });
        auto r = request_snapshot(1, "", 10s);
        host.join();
        CHECK(r.status == SnapshotResult::Status::transport_error);
        CHECK_THAT(r.reason, Catch::Contains("unknown status 7"));
    }
}

TEST_CASE("a request without a port is a transport error", "[guest][snapshot]") {
    GuestSandbox sb;
    auto r = request_snapshot(1, "", 10ms);
    CHECK(r.status == SnapshotResult::Status::transport_error);
    CHECK_THAT(r.reason, Catch::Contains("could not write"));
}
