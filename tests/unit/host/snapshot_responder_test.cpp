#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "guest_ram.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/host/message_log.hpp"
#include "ktstr/host/snapshot_responder.hpp"
#include "gate.hpp"
#include "snapshot_reply.hpp"
#include "temp_dir.hpp"

using namespace ktstr;
using namespace ktstr::host;
using namespace ktstr::host::test;
namespace fs = std::filesystem;

namespace {

Frame request(std::uint32_t id, std::uint32_t kind, std::string_view tag) {
    TlvAssembler a;
    a.feed(snapshot_request_frame(id, kind, tag));
    return *a.next();
}

byte_buffer read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return byte_buffer(std::istreambuf_iterator<char>(in), {});
}

struct Fixture {
    TempDir dir;
    GuestRam ram{0x80000000, 4096};
    std::optional<MessageLog> log{std::in_place, dir.path() / "messages.jsonl"};
    byte_buffer sent;

    SnapshotResponder responder(std::size_t max_captures = 64, bool with_dir = true,
                                std::uint64_t max_bytes = 1ull << 30, ShmDrainControl drain = {},
                                std::function<void()> before_write = {}) {
        SharedRegion shm(ram.data(), ram.size());
        ring_init(shm);
        return SnapshotResponder({with_dir ? dir.path() : fs::path(), shm, &*log, max_captures, max_bytes,
                                  std::move(drain), 4, {}, std::move(before_write)},
                                 [this](byte_view b) {
            sent.insert(sent.end(), b.begin(), b.end());
            return true;
        });
    }
};

}  // namespace

TEST_CASE("snapshot responder: a capture request gets OK with its id after the capture is on disk") {
    Fixture fx;
    auto r = fx.responder();
    auto req = request(41, 1, "after-step-3");
    fx.log->write(Channel::bulk, req);  // the host loop logs the request before answering
    ring_write(SharedRegion(fx.ram.data(), fx.ram.size()), 0x1234, as_bytes("in the ring"));
    r.on_request(req);
    r.wait_captures();

    auto replies = decode_replies(fx.sent);
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].request_id == 41);
    CHECK(replies[0].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
    CHECK(padded_text(replies[0].reason).empty());

    const auto cap = fx.dir.path() / "snapshots" / "41-after-step-3";
    REQUIRE(fs::is_directory(cap));
    CHECK(read_file(cap / "shm.bin") == byte_buffer(fx.ram.data(), fx.ram.data() + fx.ram.size()));
    // Where the capture sits in the message log, not a copy of it.
    const auto text = read_file(cap / "capture.json");
    const auto j = nlohmann::json::parse(std::string(text.begin(), text.end()));
    CHECK(j["request_id"] == 41);
    CHECK(j["tag"] == "after-step-3");
    CHECK(j["message_log"] == (fx.dir.path() / "messages.jsonl").string());
    CHECK(j["message_log_lines"] == 1);  // the request itself
    CHECK(j["message_log_bytes"] == fx.log->bytes());
    CHECK_FALSE(fs::exists(cap / "messages.jsonl"));
    CHECK(r.stats().captured == 1);
    CHECK(r.stats().bytes == fx.ram.size());
    CHECK(r.stats().capture_dirs == std::vector<std::string>{cap.string()});
}

TEST_CASE("snapshot responder: unknown kinds, kind 0 and watch get ERR with a reason") {
    Fixture fx;
    auto r = fx.responder();
    r.on_request(request(1, 7, "x"));
    r.wait_captures();
    r.on_request(request(2, 0, "x"));
    r.wait_captures();
    r.on_request(request(3, 2, "x"));
    r.wait_captures();
    auto replies = decode_replies(fx.sent);
    REQUIRE(replies.size() == 3);
    for (std::uint32_t i = 0; i < 3; ++i) {
        CHECK(replies[i].request_id == i + 1);
        CHECK(replies[i].status == static_cast<std::uint32_t>(SnapshotStatus::Err));
    }
    CHECK(padded_text(replies[0].reason) == "unknown snapshot kind 7");
    CHECK(padded_text(replies[1].reason) == "snapshot kind 0 is invalid");
    CHECK(padded_text(replies[2].reason) == "watch snapshots are not supported");
    CHECK(r.stats().errors == 3);
    CHECK_FALSE(fs::exists(fx.dir.path() / "snapshots"));
}

TEST_CASE("snapshot responder: SHM drain hold and release go to the drain control before the reply") {
    Fixture fx;
    std::vector<bool> calls;
    std::size_t replies_at_call = 99;
    auto r = fx.responder(64, true, 1ull << 30, [&](bool hold) -> std::string {
        calls.push_back(hold);
        replies_at_call = decode_replies(fx.sent).size();
        return hold ? "" : "refused for the test";
    });
    r.on_request(request(1, 0x100, "hold"));
    r.wait_captures();
    CHECK(replies_at_call == 0);  // acted on before its reply was sent
    r.on_request(request(2, 0x101, "release"));
    r.wait_captures();
    const auto replies = decode_replies(fx.sent);
    REQUIRE(replies.size() == 2);
    CHECK(calls == std::vector<bool>{true, false});
    CHECK(replies[0].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
    CHECK(replies[1].status == static_cast<std::uint32_t>(SnapshotStatus::Err));
    CHECK(padded_text(replies[1].reason) == "refused for the test");
    CHECK(r.stats().shm_drain_holds == 1);
    CHECK(r.stats().shm_drain_releases == 0);
    CHECK(r.stats().captured == 0);

    Fixture bare;
    auto none = bare.responder();
    none.on_request(request(3, 0x100, "hold"));
    const auto refused = decode_replies(bare.sent);
    REQUIRE(refused.size() == 1);
    CHECK(padded_text(refused[0].reason) == "no SHM drain control");
}

TEST_CASE("snapshot responder: hostile tags stay inside the snapshots directory; taken names get a suffix") {
    Fixture fx;
    auto r = fx.responder();
    r.on_request(request(5, 1, "../../../etc/passwd"));
    r.wait_captures();
    r.on_request(request(5, 1, "../../../etc/passwd"));
    r.wait_captures();
    r.on_request(request(6, 1, ""));
    r.wait_captures();
    auto replies = decode_replies(fx.sent);
    REQUIRE(replies.size() == 3);
    for (const auto& rep : replies)
        CHECK(rep.status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
    const auto snaps = fx.dir.path() / "snapshots";
    CHECK(fs::is_directory(snaps / "5-.._.._.._etc_passwd"));
    CHECK(fs::is_directory(snaps / "5-.._.._.._etc_passwd.1"));
    CHECK(fs::is_directory(snaps / "6"));
    CHECK(snapshot_dir_tag("a/b c\xff") == "a_b_c_");
}

TEST_CASE("snapshot responder: no output directory, the capture limit, a malformed request") {
    Fixture fx;
    SECTION("no output directory") {
        auto r = fx.responder(64, false);
        r.on_request(request(9, 1, "t"));
        r.wait_captures();
        auto replies = decode_replies(fx.sent);
        REQUIRE(replies.size() == 1);
        CHECK(replies[0].status == static_cast<std::uint32_t>(SnapshotStatus::Err));
        CHECK(padded_text(replies[0].reason) == "no output directory for captures");
    }
    SECTION("limit") {
        auto r = fx.responder(1);
        r.on_request(request(1, 1, "a"));
        r.wait_captures();
        r.on_request(request(2, 1, "b"));
        r.wait_captures();
        auto replies = decode_replies(fx.sent);
        REQUIRE(replies.size() == 2);
        CHECK(replies[0].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
        CHECK(padded_text(replies[1].reason) == "capture limit reached");
    }
    SECTION("byte budget") {
        // Room for two copies of the 4 KiB region, not three.
        auto r = fx.responder(64, true, 3 * 4096 - 1);
        for (std::uint32_t id = 1; id <= 3; ++id) {
            r.on_request(request(id, 1, "b"));
            r.wait_captures();
        }
        auto replies = decode_replies(fx.sent);
        REQUIRE(replies.size() == 3);
        CHECK(replies[1].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
        CHECK(replies[2].status == static_cast<std::uint32_t>(SnapshotStatus::Err));
        CHECK(padded_text(replies[2].reason) == "capture byte budget reached (12287 bytes)");
        CHECK_FALSE(fs::exists(fx.dir.path() / "snapshots" / "3-b"));
        CHECK(r.stats().bytes == 2 * 4096);
    }
    SECTION("malformed") {
        auto r = fx.responder();
        Frame f;
        f.header.msg_type = to_u32(MsgType::SnapshotRequest);
        f.payload = byte_buffer(71, 0);
        f.crc_ok = true;
        r.on_request(f);
        CHECK(fx.sent.empty());
        CHECK(r.stats().malformed == 1);
    }
    SECTION("the device refuses the reply") {
        SnapshotResponder r({}, [](byte_view) { return false; });
        r.on_request(request(3, 9, ""));
        r.wait_captures();
        CHECK(r.stats().replies_refused == 1);
    }
}

TEST_CASE("snapshot responder: a symbolic link planted where a capture goes is not followed") {
    Fixture fx;
    TempDir elsewhere;  // what the links point at: must stay empty
    const auto snaps = fx.dir.path() / "snapshots";
    auto empty = [&] { return fs::is_empty(elsewhere.path()); };

    SECTION("the snapshots directory is a link: ERR, nothing written through it") {
        fs::create_directory_symlink(elsewhere.path(), snaps);
        auto r = fx.responder();
        r.on_request(request(7, 1, "t"));
        r.wait_captures();
        auto replies = decode_replies(fx.sent);
        REQUIRE(replies.size() == 1);
        CHECK(replies[0].status == static_cast<std::uint32_t>(SnapshotStatus::Err));
        CHECK(padded_text(replies[0].reason).starts_with("cannot open snapshots directory: "));
        CHECK(empty());
        CHECK(r.stats().capture_dirs.empty());
    }
    SECTION("a capture directory's name is a link: the capture takes the next name") {
        fs::create_directory(snaps);
        fs::create_directory_symlink(elsewhere.path(), snaps / "7-t");
        auto r = fx.responder();
        r.on_request(request(7, 1, "t"));
        r.wait_captures();
        auto replies = decode_replies(fx.sent);
        REQUIRE(replies.size() == 1);
        CHECK(replies[0].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
        CHECK(empty());
        CHECK(fs::is_regular_file(snaps / "7-t.1" / "shm.bin"));
        CHECK(fs::is_symlink(snaps / "7-t"));
    }
}

TEST_CASE("snapshot responder: captures are written off the caller's thread, four at most, replies in order") {
    Fixture fx;
    Gate gate;  // holds the capture thread: the captures stay pending
    auto r = fx.responder(64, true, 1ull << 30, {}, [&] { gate.pass(); });
    Gate::OpenOnExit opener(gate);
    for (std::uint32_t id = 1; id <= 4; ++id)
        r.on_request(request(id, 1, "c"));
    // on_request returned with the capture thread held: nothing was
    // answered yet, the next request is answered at once.
    CHECK(fx.sent.empty());
    CHECK(r.pending_captures() == 4);
    r.on_request(request(5, 1, "c"));
    r.on_request(request(6, 9, ""));
    auto replies = decode_replies(fx.sent);
    REQUIRE(replies.size() == 2);
    CHECK(replies[0].request_id == 5);
    CHECK(padded_text(replies[0].reason) == "capture queue full (4 being written)");
    CHECK(replies[1].request_id == 6);
    CHECK_FALSE(fs::exists(fx.dir.path() / "snapshots" / "5-c"));
    CHECK(r.stats().captured == 0);

    gate.open();
    r.wait_captures();
    replies = decode_replies(fx.sent);
    REQUIRE(replies.size() == 6);
    for (std::uint32_t i = 0; i < 4; ++i) {
        CHECK(replies[2 + i].request_id == i + 1);
        CHECK(replies[2 + i].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
        CHECK(fs::file_size(fx.dir.path() / "snapshots" / (std::to_string(i + 1) + "-c") / "shm.bin") == 4096);
    }
    CHECK(r.pending_captures() == 0);
    CHECK(r.stats().captured == 4);
    CHECK(r.stats().errors == 2);
    CHECK(r.stats().capture_dirs.size() == 4);
    CHECK(r.stats().capture_dirs.front().ends_with("1-c"));
}

TEST_CASE("snapshot responder: captures in flight count against the capture limit and the byte budget") {
    Fixture fx;
    Gate gate;
    SECTION("limit") {
        auto r = fx.responder(2, true, 1ull << 30, {}, [&] { gate.pass(); });
        Gate::OpenOnExit opener(gate);
        for (std::uint32_t id = 1; id <= 3; ++id)
            r.on_request(request(id, 1, "l"));
        auto replies = decode_replies(fx.sent);
        REQUIRE(replies.size() == 1);
        CHECK(replies[0].request_id == 3);
        CHECK(padded_text(replies[0].reason) == "capture limit reached");
        gate.open();
        r.wait_captures();
        CHECK(r.stats().captured == 2);
    }
    SECTION("budget") {
        auto r = fx.responder(64, true, 2 * 4096, {}, [&] { gate.pass(); });
        Gate::OpenOnExit opener(gate);
        for (std::uint32_t id = 1; id <= 3; ++id)
            r.on_request(request(id, 1, "b"));
        auto replies = decode_replies(fx.sent);
        REQUIRE(replies.size() == 1);
        CHECK(padded_text(replies[0].reason) == "capture byte budget reached (8192 bytes)");
        gate.open();
        r.wait_captures();
        CHECK(r.stats().captured == 2);
        CHECK(r.stats().bytes == 2 * 4096);
    }
}

TEST_CASE("snapshot responder: destroyed with captures held, it neither hangs nor replies") {
    Fixture fx;
    Gate gate;
    {
        auto r = fx.responder(64, true, 1ull << 30, {}, [&] { gate.pass(); });
        Gate::OpenOnExit opener(gate);
        r.on_request(request(1, 1, "a"));
        r.on_request(request(2, 1, "b"));
        REQUIRE(gate.wait_entered(1));
        gate.open();  // the running one finishes; the queued one is dropped or runs
    }
    CHECK(fx.sent.empty());
}
