#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "guest_ram.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/host/host_loop.hpp"
#include "gate.hpp"
#include "snapshot_reply.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

using namespace ktstr;
using namespace ktstr::host;
using namespace ktstr::host::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t shm_gpa = 0xc0000000;
constexpr std::size_t shm_bytes = 64 * 1024;

// Bytes collected from the loop thread, read from the test's.
class Collector {
public:
    OutputSink sink() {
        return [this](byte_view b) {
            std::lock_guard lock(m_);
            bytes_.insert(bytes_.end(), b.begin(), b.end());
            return true;
        };
    }
    SendToGuest device_receive() {
        return [this](byte_view b) {
            std::lock_guard lock(m_);
            bytes_.insert(bytes_.end(), b.begin(), b.end());
            return b.size();
        };
    }
    std::size_t size() {
        std::lock_guard lock(m_);
        return bytes_.size();
    }
    byte_buffer bytes() {
        std::lock_guard lock(m_);
        return bytes_;
    }
    std::string text() {
        auto b = bytes();
        return {b.begin(), b.end()};
    }

private:
    std::mutex m_;
    byte_buffer bytes_;
};

// A guest with RAM below 4 GiB and the SHM region in a mapping of its own,
// as the VMM's memory slots are laid out, and the host loop's sinks.
struct Guest {
    GuestRam ram{0, 1 << 20};
    GuestRam shm{shm_gpa, shm_bytes};
    Collector out, err, diag, to_guest;
    std::atomic<int> stops{0};

    Guest() { ring_init(ring()); }  // as the VMM does when it maps the region

    HostLoopConfig config() {
        HostLoopConfig c;
        c.memory = GuestMemory({ram.region(), shm.region()});
        c.shm_base = shm_gpa;
        c.shm_size = shm_bytes;
        c.send_to_guest = to_guest.device_receive();
        c.stop_vm = [this] { ++stops; };
        c.stdout_sink = out.sink();
        c.stderr_sink = err.sink();
        c.diagnostics = diag.sink();
        return c;
    }
    SharedRegion ring() { return SharedRegion(shm.data(), shm.size()); }
};

byte_buffer random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    byte_buffer b(n);
    for (auto& x : b)
        x = static_cast<std::uint8_t>(rng());
    return b;
}

// Hands `stream` to the loop in random-size pieces, as virtqueue buffers arrive.
void hand_over_in_pieces(HostLoop& loop, byte_view stream, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, 20000);
    for (std::size_t off = 0; off < stream.size();) {
        const auto n = std::min(size(rng), stream.size() - off);
        loop.bulk_transmit(stream.subspan(off, n));
        off += n;
    }
}

}  // namespace

TEST_CASE("host loop: stdout and stderr bytes stream byte-exact, in order, from a device thread") {
    Guest g;
    auto cfg = g.config();
    HostLoop loop(std::move(cfg));
    loop.start();

    const auto out = random_bytes(8 << 20, 1);
    const auto err = random_bytes(300000, 2);
    // Stdout in 4 KiB chunks; every 16th chunk followed by the next 64
    // bytes of stderr.
    byte_buffer stream;
    std::size_t chunks = 0, err_off = 0;
    for (std::size_t off = 0; off < out.size(); off += 4096, ++chunks) {
        auto f = encode_frame(to_u32(MsgType::Stdout),
                              byte_view(out).subspan(off, std::min<std::size_t>(4096, out.size() - off)));
        stream.insert(stream.end(), f.begin(), f.end());
        if (chunks % 16 == 0 && err_off < err.size()) {
            const auto n = std::min<std::size_t>(64, err.size() - err_off);
            auto e = encode_frame(to_u32(MsgType::Stderr), byte_view(err).subspan(err_off, n));
            stream.insert(stream.end(), e.begin(), e.end());
            err_off += n;
        }
    }
    std::thread device([&] { hand_over_in_pieces(loop, stream, 3); });
    device.join();
    REQUIRE(wait_until([&] { return g.out.size() == out.size(); }));
    CHECK(g.out.bytes() == out);

    auto res = loop.stop_after_vcpus();
    CHECK(res.bulk.handover_dropped_bytes == 0);
    CHECK(res.crc_errors == 0);
    CHECK(res.message_counts.at("SOUT") == chunks);
    CHECK(g.err.bytes() == byte_buffer(err.begin(), err.begin() + static_cast<std::ptrdiff_t>(err_off)));
    CHECK(res.message_counts.at("SERR") == (chunks + 15) / 16);
}

TEST_CASE("host loop: a snapshot request gets SNRP OK with its id and a capture directory; an unknown kind gets ERR") {
    TempDir dir;
    Guest g;
    auto cfg = g.config();
    cfg.output_dir = dir.path() / "run";
    cfg.messages_path = dir.path() / "messages.jsonl";
    HostLoop loop(std::move(cfg));
    loop.start();

    loop.bulk_transmit(snapshot_request_frame(77, 1, "mid-run"));
    REQUIRE(wait_until([&] { return decode_replies(g.to_guest.bytes()).size() == 1; }));
    loop.bulk_transmit(snapshot_request_frame(78, 42, "bogus"));
    REQUIRE(wait_until([&] { return decode_replies(g.to_guest.bytes()).size() == 2; }));

    const auto replies = decode_replies(g.to_guest.bytes());
    CHECK(replies[0].request_id == 77);
    CHECK(replies[0].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
    CHECK(replies[1].request_id == 78);
    CHECK(replies[1].status == static_cast<std::uint32_t>(SnapshotStatus::Err));
    CHECK(padded_text(replies[1].reason) == "unknown snapshot kind 42");

    const auto cap = dir.path() / "run" / "snapshots" / "77-mid-run";
    CHECK(fs::file_size(cap / "shm.bin") == shm_bytes);
    // The capture records where it sits in the log: after the request's line.
    std::ifstream capture_json(cap / "capture.json");
    std::string capture_text((std::istreambuf_iterator<char>(capture_json)), {});
    CHECK(capture_text.find("\"message_log_lines\":1,") != std::string::npos);

    auto res = loop.stop_after_vcpus();
    CHECK(res.snapshots.requests == 2);
    CHECK(res.snapshots.captured == 1);
    CHECK(res.snapshots.errors == 1);
    CHECK(res.bulk.sent_bytes == 2 * (16 + 72));
    // The message log: one line a frame.
    std::ifstream log(dir.path() / "messages.jsonl");
    std::string line;
    int lines = 0;
    while (std::getline(log, line))
        ++lines;
    CHECK(lines == 2);
}

// A started loop whose capture thread stops at `gate` before writing each
// capture's files. Members in order: the gate opens (opener) before the
// loop goes, so a failed REQUIRE cannot leave the capture thread waiting.
struct HeldCaptures {
    TempDir dir;
    Guest g;
    Gate gate;
    HostLoop loop{[this] {
        auto cfg = g.config();
        cfg.output_dir = dir.path() / "run";
        cfg.before_capture_write = [this] { gate.pass(); };
        return cfg;
    }()};
    Gate::OpenOnExit opener{gate};

    HeldCaptures() { loop.start(); }
    fs::path capture(const std::string& name) const { return dir.path() / "run" / "snapshots" / name; }
};

TEST_CASE("host loop: a capture being written does not hold up the loop; its reply follows the files") {
    HeldCaptures h;
    h.loop.bulk_transmit(snapshot_request_frame(3, 1, "held"));
    REQUIRE(h.gate.wait_entered(1));
    h.loop.bulk_transmit(encode_frame(to_u32(MsgType::Stdout), as_bytes("after the request")));
    REQUIRE(wait_until([&] { return h.g.out.text() == "after the request"; }));
    CHECK(h.g.to_guest.size() == 0);  // no reply while the files are not written

    h.gate.open();
    REQUIRE(wait_until([&] { return decode_replies(h.g.to_guest.bytes()).size() == 1; }));
    const auto reply = decode_replies(h.g.to_guest.bytes())[0];
    CHECK(reply.request_id == 3);
    CHECK(reply.status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
    CHECK(fs::file_size(h.capture("3-held") / "shm.bin") == shm_bytes);
    const auto& res = h.loop.stop_after_vcpus();
    CHECK(res.snapshots.captured == 1);
}

TEST_CASE("host loop: the final pass waits for a capture still being written and counts it") {
    HeldCaptures h;
    h.loop.bulk_transmit(snapshot_request_frame(8, 1, "last"));
    REQUIRE(h.gate.wait_entered(1));
    h.gate.open();
    // Whether the loop delivered the reply already or the final pass does,
    // the result counts the capture.
    const auto& res = h.loop.stop_after_vcpus();
    CHECK(res.snapshots.captured == 1);
    CHECK(res.snapshots.capture_dirs.size() == 1);
    CHECK(fs::is_regular_file(h.capture("8-last") / "capture.json"));
}

TEST_CASE("host loop: without a message log the output directory appears only with the first capture") {
    TempDir dir;
    Guest g;
    auto cfg = g.config();
    cfg.output_dir = dir.path() / "later";
    HostLoop loop(std::move(cfg));
    CHECK_FALSE(fs::exists(dir.path() / "later"));
    loop.start();
    loop.bulk_transmit(snapshot_request_frame(5, 1, "first"));
    REQUIRE(wait_until([&] { return decode_replies(g.to_guest.bytes()).size() == 1; }));
    auto res = loop.stop_after_vcpus();
    CHECK(res.snapshots.captured == 1);
    CHECK(fs::file_size(dir.path() / "later" / "snapshots" / "5-first" / "shm.bin") == shm_bytes);
    CHECK_FALSE(fs::exists(dir.path() / "later" / "messages.jsonl"));
    // No message log: the capture says so.
    std::ifstream capture_json(dir.path() / "later" / "snapshots" / "5-first" / "capture.json");
    std::string capture_text((std::istreambuf_iterator<char>(capture_json)), {});
    CHECK(capture_text.find("\"message_log\":null") != std::string::npos);
}

TEST_CASE("host loop: SchedExit on either channel stops the VM once") {
    Guest g;
    auto cfg = g.config();
    HostLoop loop(std::move(cfg));
    loop.start();
    REQUIRE(ring_write(g.ring(), to_u32(MsgType::SchedExit), encode_i32(-9)) == RingWriteStatus::written);
    REQUIRE(wait_until([&] { return g.stops.load() == 1; }));
    loop.bulk_transmit(encode_frame(to_u32(MsgType::SchedExit), encode_i32(-9)));
    auto res = loop.stop_after_vcpus();
    CHECK(g.stops.load() == 1);
    CHECK(res.stopped_by_sched_exit);
    CHECK(res.sched_exit == std::optional<std::int32_t>(-9));
    CHECK(res.message_counts.at("SCDX") == 2);
}

TEST_CASE("host loop: the final drain after the vCPUs stop catches frames written after the last tick") {
    Guest g;
    auto cfg = g.config();
    cfg.shm_poll_interval = std::chrono::hours(1);  // no tick comes during the test
    HostLoop loop(std::move(cfg));
    loop.start();

    for (int i = 0; i < 10; ++i)
        REQUIRE(ring_write(g.ring(), to_u32(MsgType::Stdout), as_bytes("shm line\n")) == RingWriteStatus::written);
    REQUIRE(ring_write(g.ring(), to_u32(MsgType::Exit), encode_i32(3)) == RingWriteStatus::written);
    // The guest's last bulk bytes, handed over just before power-off.
    loop.bulk_transmit(encode_frame(to_u32(MsgType::TestResult), encode_json(TestResult{true, {}})));

    auto res = loop.stop_after_vcpus();
    CHECK(res.shm.passes == 1);  // only the final one
    CHECK(res.shm.entries == 11);
    CHECK(res.exit_code == std::optional<std::int32_t>(3));
    CHECK(res.tests_passed == 1);
    std::string expect;
    for (int i = 0; i < 10; ++i)
        expect += "shm line\n";
    CHECK(g.out.text() == expect);
    CHECK(ring_read_header(g.ring()).read_ptr == ring_read_header(g.ring()).write_ptr);
    // Later hand-overs are refused and counted.
    CHECK_FALSE(loop.bulk_transmit(as_bytes("late")));
    // A second call returns the same result.
    CHECK(loop.stop_after_vcpus().shm.entries == 11);
}

TEST_CASE("host loop: garbage frames, huge lengths and a torn ring header are counted and the loop keeps going") {
    Guest g;
    auto cfg = g.config();
    cfg.bulk.max_payload = 4096;  // so "twice the cap" of garbage is quick to send
    cfg.verbose = true;
    HostLoop loop(std::move(cfg));
    loop.start();

    // Bulk: a header announcing 4 GiB followed by more than twice the cap.
    std::array<std::uint8_t, 16> huge{};
    encode_frame_header(FrameHeader{to_u32(MsgType::Stdout), 0xffffffff, 0, 0}, huge);
    loop.bulk_transmit(huge);
    loop.bulk_transmit(random_bytes(9000, 4));
    // The assembler drops everything it holds when it gives up on a huge
    // length, so the frames below must not share its batch: wait until the
    // loop has taken the garbage.
    REQUIRE(wait_until([&] { return loop.bulk_backlog_bytes() == 0; }));
    // A frame with a bad CRC, then a good one.
    auto bad = encode_frame(to_u32(MsgType::Exit), encode_i32(1));
    bad.back() ^= 0x80;
    loop.bulk_transmit(bad);
    loop.bulk_transmit(encode_frame(to_u32(MsgType::Stdout), as_bytes("still alive\n")));
    REQUIRE(wait_until([&] { return g.out.text() == "still alive\n"; }));

    // SHM: tear the header (read_ptr ahead of write_ptr), let the loop see
    // it, then repair it and write a frame.
    REQUIRE(ring_write(g.ring(), to_u32(MsgType::Stdout), as_bytes("before tear\n")) == RingWriteStatus::written);
    REQUIRE(wait_until([&] { return g.out.text() == "still alive\nbefore tear\n"; }));
    // The "guest" tears the header with an atomic store, as a guest thread
    // would, so that the test itself has no data race.
    const auto guest_view = g.shm.memory();
    const auto h = ring_read_header(g.ring());
    REQUIRE(guest_view.write_u64(shm_gpa + shm::off_read_ptr, h.write_ptr + 12345));
    REQUIRE(wait_until([&] { return g.diag.text().find("torn header") != std::string::npos; }));
    REQUIRE(guest_view.write_u64(shm_gpa + shm::off_read_ptr, h.write_ptr));
    REQUIRE(ring_write(g.ring(), to_u32(MsgType::Stdout), as_bytes("after repair\n")) == RingWriteStatus::written);
    REQUIRE(wait_until([&] { return g.out.text() == "still alive\nbefore tear\nafter repair\n"; }));

    auto res = loop.stop_after_vcpus();
    CHECK(res.bulk.assembler.overflow_resets == 1);
    CHECK(res.crc_errors == 1);
    CHECK_FALSE(res.exit_code.has_value());  // the corrupted EXIT was not believed
    CHECK(res.shm.bad_header_passes >= 1);
    CHECK(res.shm.last_error == RingDrainStatus::used_exceeds_capacity);
    CHECK(res.shm.last_status == RingDrainStatus::ok);
    CHECK(res.loop_errors == 0);
}

TEST_CASE("host loop: the timer drains a guest writing on another thread, every frame in order") {
    Guest g;
    auto cfg = g.config();
    HostLoop loop(std::move(cfg));
    std::atomic<std::uint32_t> next{0};
    std::atomic<bool> in_order{true};
    loop.dispatcher().subscribe(MsgType::Stimulus, [&](Channel ch, const Frame& f) {
        auto s = decode_stimulus(f.payload);
        if (ch != Channel::shm || !s || s->total_iterations != next.load())
            in_order = false;
        next.fetch_add(1);
    });
    loop.start();
    CHECK_THROWS_AS(loop.dispatcher(), std::logic_error);

    constexpr std::uint32_t total = 20000;
    std::thread guest([&] {
        for (std::uint32_t i = 0; i < total;) {
            StimulusPayload s;
            s.total_iterations = i;
            if (ring_write(g.ring(), to_u32(MsgType::Stimulus), encode(s)) == RingWriteStatus::written)
                ++i;
            else
                std::this_thread::yield();  // ring full: wait for the host to drain
        }
    });
    guest.join();
    auto res = loop.stop_after_vcpus();
    CHECK(next.load() == total);
    CHECK(in_order.load());
    CHECK(res.shm.entries == total);
    CHECK(res.shm.passes > 1);  // the timer drained while the guest wrote (it waited on a full ring)
}

TEST_CASE("host loop: lifecycle stages, crash reports, boot time and the message log file") {
    TempDir dir;
    Guest g;
    auto cfg = g.config();
    cfg.messages_path = dir.path() / "m.jsonl";
    std::mutex m;
    std::vector<LifecycleStage> stages;
    cfg.on_lifecycle = [&](const LifecycleStage& s) {
        std::lock_guard lock(m);
        stages.push_back(s);
    };
    HostLoop loop(std::move(cfg));
    loop.start();
    loop.bulk_transmit(encode_frame(to_u32(MsgType::Lifecycle), encode_lifecycle(LifecyclePhase::InitStarted, "")));
    loop.bulk_transmit(encode_frame(to_u32(MsgType::SysRdy), {}));
    loop.bulk_transmit(encode_frame(to_u32(MsgType::Lifecycle), encode_lifecycle(LifecyclePhase::PayloadStarting, "selftest")));
    REQUIRE(ring_write(g.ring(), to_u32(MsgType::Crash), as_bytes("BUG: oops")) == RingWriteStatus::written);
    REQUIRE(wait_until([&] { return g.diag.text().find("BUG: oops") != std::string::npos; }));
    auto res = loop.stop_after_vcpus();

    REQUIRE(stages.size() == 2);
    CHECK(stages[0].phase == LifecyclePhase::InitStarted);
    CHECK(stages[1].reason == "selftest");
    CHECK(res.lifecycle.size() == 2);
    CHECK(res.boot_time.has_value());
    CHECK(res.crashes == std::vector<std::string>{"BUG: oops"});
    std::ifstream log(dir.path() / "m.jsonl");
    std::string line;
    std::uint64_t lines = 0;
    while (std::getline(log, line))
        ++lines;
    CHECK(lines == res.frames);
    CHECK(lines == 4);
}

TEST_CASE("host loop: guest crash texts and init-stage reasons reach the diagnostics escaped, prefixed, bounded") {
    Guest g;
    auto cfg = g.config();
    cfg.verbose = true;
    HostLoop loop(std::move(cfg));
    // Not started: the final pass feeds everything through on this thread.
    loop.bulk_transmit(encode_frame(to_u32(MsgType::Crash), as_bytes("\x1b[2J\nktstr-vmm: fake")));
    loop.bulk_transmit(encode_frame(to_u32(MsgType::Lifecycle),
                                    encode_lifecycle(LifecyclePhase::PayloadStarting, "x\nktstr-vmm: fake\x1b]0;t\x07")));
    for (int i = 0; i < 20; ++i)
        loop.bulk_transmit(encode_frame(to_u32(MsgType::Crash), as_bytes("again " + std::to_string(i))));
    auto res = loop.stop_after_vcpus();

    const auto diag = g.diag.text();
    CHECK(diag.starts_with("ktstr-vmm: guest crash report (bulk):\n"
                           "ktstr-vmm: guest crash| \\x1b[2J\n"
                           "ktstr-vmm: guest crash| ktstr-vmm: fake\n"
                           "ktstr-vmm: init stage PayloadStarting: x\\x0aktstr-vmm: fake\\x1b]0;t\\x07\n"));
    CHECK(diag.find('\x1b') == std::string::npos);
    CHECK(diag.find('\x07') == std::string::npos);
    // Every line that does not come from the host itself carries the prefix.
    std::istringstream lines(diag);
    for (std::string line; std::getline(lines, line);)
        CHECK((line.starts_with("ktstr-vmm: guest crash report (bulk):") || line.starts_with("ktstr-vmm: guest crash| ") ||
               line.starts_with("ktstr-vmm: init stage ") || line.starts_with("ktstr-vmm: more guest crash reports")));
    // 16 reports printed (the first and 15 of the rest), then one line for the others.
    CHECK(diag.find("again 14\n") != std::string::npos);
    CHECK(diag.find("again 15") == std::string::npos);
    CHECK(diag.ends_with("ktstr-vmm: more guest crash reports, not printed (--messages and --json keep them)\n"));
    CHECK(res.crashes.size() == 16);  // the result's own bound (RunLimits::max_crashes)
}

TEST_CASE("host loop: the message log's cap is counted in the run result and closes the log") {
    TempDir dir;
    Guest g;
    auto cfg = g.config();
    cfg.messages_path = dir.path() / "m.jsonl";
    cfg.message_log_max_bytes = 300;  // a couple of SRDY lines
    HostLoop loop(std::move(cfg));
    for (int i = 0; i < 10; ++i)
        loop.bulk_transmit(encode_frame(to_u32(MsgType::SysRdy), {}));
    auto res = loop.stop_after_vcpus();  // not started: the final pass runs here
    CHECK(res.frames == 10);
    CHECK(res.message_log_left_out > 0);
    CHECK(res.to_json()["host"]["message_log_left_out"] == res.message_log_left_out);
    std::ifstream log(dir.path() / "m.jsonl");
    std::vector<std::string> lines;
    for (std::string l; std::getline(log, l);)
        lines.push_back(l);
    REQUIRE(lines.size() == 10 - res.message_log_left_out + 1);
    CHECK(lines.back() == "{\"left_out\":{\"frames\":" + std::to_string(res.message_log_left_out) +
                              ",\"payload_bytes\":0,\"cap_bytes\":300}}");
}

TEST_CASE("host loop: the SHM ring is initialised at construction and control bytes reach it") {
    Guest g;
    auto cfg = g.config();
    HostLoop loop(std::move(cfg));
    const auto h = ring_read_header(g.ring());
    CHECK(h.magic == shm::magic);
    CHECK(h.capacity == shm_bytes - shm::header_size);
    CHECK(loop.signal_guest(0, shm::signal_shutdown_req));
    CHECK(loop.request_dump());
    CHECK(loop.request_stall());
    CHECK_FALSE(loop.signal_guest(2, 1));
    CHECK(g.shm.data()[shm::signal_slot_base] == shm::signal_shutdown_req);
    CHECK(g.shm.data()[shm::dump_req_offset] == 'D');
    CHECK(g.shm.data()[shm::stall_req_offset] == 'S');
    // Never started: the final pass runs on this thread.
    REQUIRE(ring_write(g.ring(), to_u32(MsgType::SysRdy), {}) == RingWriteStatus::written);
    CHECK(loop.stop_after_vcpus().message_counts.at("SRDY") == 1);
}

TEST_CASE("host loop: a stdout whose reader went away is counted, not fatal") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[0]);  // no reader: a write raises SIGPIPE unless the thread blocks it
    Guest g;
    auto cfg = g.config();
    cfg.stdout_sink = fd_sink(fds[1]);
    HostLoop loop(std::move(cfg));
    loop.start();
    loop.bulk_transmit(encode_frame(to_u32(MsgType::Stdout), as_bytes("nobody reads this\n")));
    loop.bulk_transmit(encode_frame(to_u32(MsgType::Stdout), as_bytes("nor this\n")));
    auto res = loop.stop_after_vcpus();
    ::close(fds[1]);
    CHECK(res.output_errors == 2);
    CHECK(res.message_counts.at("SOUT") == 2);
}

TEST_CASE("host loop: configuration errors are reported at construction") {
    Guest g;
    SECTION("SHM outside every mapping") {
        auto cfg = g.config();
        cfg.shm_base = 0x100000000;
        CHECK_THROWS_AS(HostLoop(std::move(cfg)), std::invalid_argument);
    }
    SECTION("SHM straddling its mapping's end") {
        auto cfg = g.config();
        cfg.shm_base = shm_gpa + 4096;
        CHECK_THROWS_AS(HostLoop(std::move(cfg)), std::invalid_argument);
    }
    SECTION("zero interval") {
        auto cfg = g.config();
        cfg.shm_poll_interval = std::chrono::microseconds(0);
        CHECK_THROWS_AS(HostLoop(std::move(cfg)), std::invalid_argument);
    }
    SECTION("unwritable message log") {
        auto cfg = g.config();
        cfg.messages_path = "/nonexistent-dir/m.jsonl";
        CHECK_THROWS_AS(HostLoop(std::move(cfg)), std::runtime_error);
    }
    SECTION("destroyed while running, without stop_after_vcpus") {
        auto cfg = g.config();
        HostLoop loop(std::move(cfg));
        loop.start();
        loop.bulk_transmit(encode_frame(to_u32(MsgType::SysRdy), {}));
    }
}

TEST_CASE("host loop: a held SHM drain lets the ring fill; the release drains every entry before its reply") {
    Guest g;
    auto cfg = g.config();
    std::atomic<std::uint64_t> stims{0};
    HostLoop loop(std::move(cfg));
    loop.dispatcher().subscribe(MsgType::Stimulus, [&](Channel, const Frame&) { ++stims; });
    loop.start();

    const auto hold = static_cast<std::uint32_t>(SnapshotKind::ShmDrainHold);
    loop.bulk_transmit(snapshot_request_frame(1, hold, "burst"));
    REQUIRE(wait_until([&] { return decode_replies(g.to_guest.bytes()).size() == 1; }));
    REQUIRE(decode_replies(g.to_guest.bytes())[0].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));

    // The reply is the barrier: from here no live pass runs, so the ring
    // fills after exactly capacity / frame writes, however fast the loop is.
    const auto payload = encode(StimulusPayload{});
    const std::uint64_t frame = frame_header_size + payload.size();
    const std::uint64_t capacity = ring_read_header(g.ring()).capacity;
    std::uint64_t written = 0, dropped = 0;
    for (int i = 0; i < 100000 && dropped < 5; ++i) {
        const auto s = ring_write(g.ring(), to_u32(MsgType::Stimulus), payload);
        REQUIRE((s == RingWriteStatus::written || s == RingWriteStatus::dropped));
        ++(s == RingWriteStatus::written ? written : dropped);
    }
    CHECK(written == capacity / frame);
    CHECK(dropped == 5);
    CHECK(ring_read_header(g.ring()).drops == 5);

    // Dispatch happens on the loop thread before the reply is queued: when
    // the reply is seen, every written entry has been dispatched.
    loop.bulk_transmit(snapshot_request_frame(2, static_cast<std::uint32_t>(SnapshotKind::ShmDrainRelease), "burst"));
    REQUIRE(wait_until([&] { return decode_replies(g.to_guest.bytes()).size() == 2; }));
    CHECK(decode_replies(g.to_guest.bytes())[1].status == static_cast<std::uint32_t>(SnapshotStatus::Ok));
    CHECK(stims.load() == written);
    const auto h = ring_read_header(g.ring());
    CHECK(h.read_ptr == h.write_ptr);

    auto res = loop.stop_after_vcpus();
    CHECK(res.snapshots.shm_drain_holds == 1);
    CHECK(res.snapshots.shm_drain_releases == 1);
    CHECK(res.snapshots.captured == 0);
    CHECK(res.shm.drops == 5);
    CHECK(res.message_counts["STIM"] == written);
}

TEST_CASE("host loop: entries written under a hold that is never released arrive in the final pass") {
    Guest g;
    auto cfg = g.config();
    HostLoop loop(std::move(cfg));
    loop.start();
    loop.bulk_transmit(snapshot_request_frame(9, static_cast<std::uint32_t>(SnapshotKind::ShmDrainHold), ""));
    REQUIRE(wait_until([&] { return decode_replies(g.to_guest.bytes()).size() == 1; }));
    for (int i = 0; i < 10; ++i)
        REQUIRE(ring_write(g.ring(), to_u32(MsgType::ScenarioStart), {}) == RingWriteStatus::written);
    auto res = loop.stop_after_vcpus();
    CHECK(res.message_counts["SCST"] == 10);
}

TEST_CASE("host loop: the result keeps guest text within the configured budget and is not copied per call") {
    Guest g;
    auto cfg = g.config();
    cfg.limits.max_kept_bytes = 4096;
    HostLoop loop(std::move(cfg));
    // Without start(): the final pass runs here, nothing depends on timing.
    for (int i = 0; i < 10; ++i)
        REQUIRE(loop.bulk_transmit(encode_frame(to_u32(MsgType::Crash), byte_buffer(1000, 'c'))));
    REQUIRE(loop.bulk_transmit(encode_frame(to_u32(MsgType::TestResult), encode_json(TestResult{false, {}}))));

    const RunResult& res = loop.stop_after_vcpus();
    std::size_t kept_text = 0;
    for (const auto& c : res.crashes)
        kept_text += c.size();
    CHECK(res.kept.kept_bytes <= 4096);
    CHECK(res.kept.kept_bytes == kept_text + kept_record_cost * res.crashes.size());
    REQUIRE(res.crashes.size() == 4);  // 3 whole (1064 bytes each), the 4th cut at the budget
    CHECK(res.crashes[3].size() == 4096 - 3 * 1064 - kept_record_cost);
    CHECK(res.kept.kept_bytes == 4096);
    CHECK(res.kept.dropped_crashes == 6);
    CHECK(res.kept.dropped_tests == 1);
    CHECK(res.tests_failed == 1);
    CHECK(res.message_counts.at("CRSH") == 10);
    // Later calls return the very same object.
    CHECK(&loop.stop_after_vcpus() == &res);
}

TEST_CASE("host loop: SchedLog and Dmesg payloads go to their sinks in order, before SchedExit stops the VM") {
    Guest g;
    Collector sched_log, dmesg;
    auto cfg = g.config();
    cfg.sched_log_sink = sched_log.sink();
    cfg.dmesg_sink = dmesg.sink();
    HostLoop loop(std::move(cfg));
    loop.start();
    byte_buffer stream;
    auto add = [&](MsgType t, std::string_view text) {
        auto f = encode_frame(to_u32(t), as_bytes(text));
        stream.insert(stream.end(), f.begin(), f.end());
    };
    add(MsgType::SchedLog, "EXIT: ");
    add(MsgType::Dmesg, "sched_ext: BPF scheduler \"qmap\" disabled (scx_bpf_error)\n");
    add(MsgType::SchedLog, "scx_bpf_error (test triggering error)\n");
    add(MsgType::SchedExit, std::string_view("\x01\x04\x00\x00", 4));
    loop.bulk_transmit(stream);
    REQUIRE(wait_until([&] { return g.stops.load() == 1; }));
    const auto& res = loop.stop_after_vcpus();
    CHECK(sched_log.text() == "EXIT: scx_bpf_error (test triggering error)\n");
    CHECK(dmesg.text() == "sched_ext: BPF scheduler \"qmap\" disabled (scx_bpf_error)\n");
    CHECK(res.sched_exit == 1025);
    CHECK(res.output_errors == 0);
}
