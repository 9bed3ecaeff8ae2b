#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <map>
#include <thread>

#include "guest_sandbox.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/guest/bulk_port.hpp"
#include "ktstr/guest/senders.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using ktstr::test::GuestSandbox;

namespace {

// Payload of producer `who`, frame `seq`: who, seq, then a pattern of a
// size that varies with seq (up to ~70 KiB, above a socket's buffer, so
// writes are partial).
byte_buffer producer_payload(std::uint32_t who, std::uint32_t seq) {
    std::size_t size = 8 + (static_cast<std::size_t>(seq) * 7919 + who * 131) % 70000;
    byte_buffer p(size);
    store_le(p.data(), who);
    store_le(p.data() + 4, seq);
    for (std::size_t i = 8; i < size; ++i)
        p[i] = static_cast<std::uint8_t>(who * 31 + seq + i);
    return p;
}

bool payload_intact(const byte_buffer& p) {
    if (p.size() < 8)
        return false;
    auto who = load_le<std::uint32_t>(p.data());
    auto seq = load_le<std::uint32_t>(p.data() + 4);
    return p == producer_payload(who, seq);
}

}  // namespace

TEST_CASE("senders outside a guest send nothing and return false", "[guest][bulk]") {
    GuestSandbox sb("console=ttyS0");
    sb.attach_port();
    CHECK_FALSE(send_exit(0));
    CHECK_FALSE(send_sys_rdy());
    CHECK_FALSE(send_stdout_chunk(as_bytes("x")));
    CHECK_FALSE(send_lifecycle(LifecyclePhase::InitStarted, ""));
    CHECK_FALSE(ktstr::test::readable(sb.host()));
}

TEST_CASE("a sender writes one framed message with its CRC", "[guest][bulk]") {
    GuestSandbox sb;
    sb.attach_port();
    REQUIRE(send_exit(-7));
    REQUIRE(send_kern_addrs(0x200000, 0xffff888000000000ull));
    auto frames = ktstr::test::read_frames(sb.host(), 2);
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].msg_type() == to_u32(MsgType::Exit));
    CHECK(frames[0].crc_ok);
    CHECK(frames[0].header.pad == 0);
    CHECK(decode_i32(frames[0].payload) == -7);
    auto k = decode_kern_addrs(frames[1].payload);
    REQUIRE(k);
    CHECK(k->phys_base == 0x200000);
    CHECK(k->page_offset_base == 0xffff888000000000ull);
}

TEST_CASE("concurrent producers in threads and processes never interleave frames", "[guest][bulk]") {
    GuestSandbox sb;
    sb.attach_port();
    constexpr std::uint32_t threads = 6;
    constexpr std::uint32_t per_thread = 150;
    constexpr std::uint32_t child_frames = 150;
    constexpr std::uint32_t child_id = 100;
    const std::size_t total = threads * per_thread + child_frames;

    // A second process writing to the same descriptor, as the command
    // run by ktstr-init does; forked before this process starts threads.
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        bool ok = true;
        for (std::uint32_t s = 0; s < child_frames; ++s)
            ok = send_frame(to_u32(MsgType::ProbeOutput), producer_payload(child_id, s)) && ok;
        ::_exit(ok ? 0 : 1);
    }
    // The reader drains concurrently; the socket buffer is far smaller
    // than what the producers write.
    std::vector<Frame> frames;
    TlvAssembler assembler;
    std::thread reader([&] { frames = ktstr::test::read_frames(sb.host(), total, std::chrono::seconds(120), &assembler); });
    std::vector<std::thread> producers;
    std::atomic<int> failed{0};
    for (std::uint32_t t = 0; t < threads; ++t)
        producers.emplace_back([t, &failed] {
            for (std::uint32_t s = 0; s < per_thread; ++s)
                if (!send_frame(to_u32(MsgType::Stdout), producer_payload(t, s)))
                    failed.fetch_add(1);
        });
    for (auto& p : producers)
        p.join();
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    reader.join();

    CHECK(failed.load() == 0);
    REQUIRE(frames.size() == total);
    CHECK(assembler.stats().crc_errors == 0);
    CHECK(assembler.stats().dropped_bytes == 0);
    CHECK(assembler.buffered() == 0);
    std::map<std::uint32_t, std::uint32_t> next_seq;
    for (const auto& f : frames) {
        REQUIRE(f.crc_ok);
        REQUIRE(payload_intact(f.payload));
        auto who = load_le<std::uint32_t>(f.payload.data());
        auto seq = load_le<std::uint32_t>(f.payload.data() + 4);
        CHECK(seq == next_seq[who]);  // each producer's frames in its order
        next_seq[who] = seq + 1;
    }
    CHECK(next_seq[child_id] == child_frames);
    for (std::uint32_t t = 0; t < threads; ++t)
        CHECK(next_seq[t] == per_thread);
}

TEST_CASE("the port is opened lazily and retried until it exists", "[guest][bulk]") {
    GuestSandbox sb;
    const auto port = sb.path("vport0p1");
    CHECK_FALSE(send_sys_rdy());  // no such device yet
    REQUIRE(::mkfifo(port.c_str(), 0600) == 0);
    REQUIRE(send_sys_rdy());
    UniqueFd rd(::open(port.c_str(), O_RDONLY | O_NONBLOCK));
    REQUIRE(rd);
    auto frames = ktstr::test::read_frames(rd.get(), 1, std::chrono::seconds(5));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].msg_type() == to_u32(MsgType::SysRdy));
    CHECK(frames[0].payload.empty());
    CHECK(BulkPort::instance().wait_until_open(std::chrono::milliseconds(0)));
}

TEST_CASE("after a write error the handle is dropped and the port reopened", "[guest][bulk]") {
    GuestSandbox sb;
    const auto port = sb.path("vport0p1");
    const auto sink = sb.path("sink");
    REQUIRE(::symlink("/dev/full", port.c_str()) == 0);
    CHECK_FALSE(send_exit(1));  // ENOSPC
    ktstr::test::write_text(sink, "");
    REQUIRE(::unlink(port.c_str()) == 0);
    REQUIRE(::symlink(sink.c_str(), port.c_str()) == 0);
    REQUIRE(send_exit(2));  // a fresh open reaches the new target
    auto bytes = ktstr::test::read_text(sink);
    TlvAssembler a;
    a.feed(as_bytes(bytes));
    auto f = a.next();
    REQUIRE(f);
    CHECK(decode_i32(f->payload) == 2);
}

TEST_CASE("a write to a closed peer fails cleanly", "[guest][bulk]") {
    GuestSandbox sb;
    sb.attach_port();
    sb.close_host();
    CHECK_FALSE(send_exit(3));
    CHECK_FALSE(send_exit(4));  // the inherited descriptor is reused, still broken
}

TEST_CASE("a payload above the bulk cap is refused, not sent", "[guest][bulk]") {
    GuestSandbox sb;
    sb.attach_port();
    byte_buffer big(max_bulk_frame_payload + 1);
    CHECK_FALSE(send_profraw(big));
    CHECK_FALSE(ktstr::test::readable(sb.host()));
    byte_buffer exact(max_bulk_frame_payload, 0xAB);
    std::vector<Frame> frames;
    std::thread reader([&] { frames = ktstr::test::read_frames(sb.host(), 1); });
    CHECK(send_profraw(exact));
    reader.join();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].payload.size() == max_bulk_frame_payload);
    CHECK(frames[0].crc_ok);
}

TEST_CASE("KTSTR_BULK_FD naming a closed descriptor is ignored", "[guest][bulk]") {
    GuestSandbox sb;
    ::setenv(bulk_fd_env, "987", 1);
    sb.refresh();
    CHECK_FALSE(send_exit(0));  // falls back to the (missing) device path
    ::setenv(bulk_fd_env, "3x", 1);
    sb.refresh();
    CHECK_FALSE(send_exit(0));
}
