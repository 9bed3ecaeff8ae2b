#include <catch2/catch.hpp>

#include <thread>

#include "guest_sandbox.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/guest/output_forwarder.hpp"
#include "ktstr/guest/tail_buffer.hpp"

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

std::string drain_fd(int fd) {
    std::string out;
    char buf[4096];
    while (ktstr::test::readable(fd)) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

}  // namespace

TEST_CASE("output is forwarded in chunks of at most chunk_size and echoed", "[guest][forwarder]") {
    GuestSandbox sb;
    sb.attach_port();
    Pipe src;
    ktstr::test::write_text(sb.path("echo"), "");
    UniqueFd echo(::open(sb.path("echo").c_str(), O_WRONLY | O_CLOEXEC));
    std::string data;
    for (int i = 0; i < 100000; ++i)  // more than three chunks
        data.push_back(static_cast<char>('a' + i % 26));

    OutputForwarder fwd(std::move(src.r), {OutputStream::stderr_stream, echo.get(), true});
    std::thread writer([&] {
        for (std::size_t off = 0; off < data.size(); off += 3000) {
            auto n = std::min<std::size_t>(3000, data.size() - off);
            if (::write(src.w.get(), data.data() + off, n) != static_cast<ssize_t>(n))
                return;  // shows as missing bytes below
        }
        src.w.reset();
    });
    writer.join();
    CHECK(fwd.finish(10s));
    // Every frame is in the socket buffer by now; read until it is empty.
    auto frames = ktstr::test::read_frames(sb.host(), 1000, 200ms);

    std::string got;
    for (const auto& f : frames) {
        CHECK(f.msg_type() == to_u32(MsgType::Stderr));
        CHECK(f.payload.size() <= OutputForwarder::chunk_size);
        CHECK(f.payload.size() > 0);
        got += ktstr::test::text(f);
    }
    CHECK(got == data);
    CHECK(frames.size() >= (data.size() + OutputForwarder::chunk_size - 1) / OutputForwarder::chunk_size);
    CHECK(ktstr::test::read_text(sb.path("echo")) == data);
    auto st = fwd.stats();
    CHECK(st.bytes == data.size());
    CHECK(st.chunks == frames.size());
    CHECK(st.chunks_not_sent == 0);
}

TEST_CASE("chunks that cannot be sent are counted, the echo still works", "[guest][forwarder]") {
    GuestSandbox sb("console=ttyS0");  // not a guest: senders refuse
    Pipe src, echo;
    OutputForwarder fwd(std::move(src.r), {OutputStream::stdout_stream, echo.w.get(), true});
    REQUIRE(::write(src.w.get(), "hello", 5) == 5);
    src.w.reset();
    CHECK(fwd.finish(10s));
    CHECK(fwd.stats().chunks_not_sent == 1);
    CHECK(drain_fd(echo.r.get()) == "hello");
}

TEST_CASE("finish gives up on a writer that never closes", "[guest][forwarder]") {
    GuestSandbox sb;
    Pipe src;
    OutputForwarder fwd(std::move(src.r), {OutputStream::stdout_stream, -1, false});
    REQUIRE(::write(src.w.get(), "x", 1) == 1);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(fwd.finish(20ms));
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
}

TEST_CASE("a scheduler's output goes out as SchedLog, its tail is kept", "[guest][forwarder]") {
    GuestSandbox sb;
    sb.attach_port();
    Pipe src;
    OutputForwarder::Options o;
    o.stream = OutputStream::sched_log;
    o.keep_tail = 10;
    OutputForwarder fwd(std::move(src.r), o);
    REQUIRE(::write(src.w.get(), "hello ", 6) == 6);
    REQUIRE(::write(src.w.get(), "scheduler world", 15) == 15);
    src.w.reset();
    CHECK(fwd.finish(10s));
    auto frames = ktstr::test::read_frames(sb.host(), 1000, 200ms);
    std::string got;
    for (const auto& f : frames) {
        CHECK(f.msg_type() == to_u32(MsgType::SchedLog));
        got += ktstr::test::text(f);
    }
    CHECK(got == "hello scheduler world");
    CHECK(fwd.tail() == "uler world");
}

TEST_CASE("a tail buffer keeps the last bytes in bounded memory", "[guest][forwarder]") {
    TailBuffer t(8);
    CHECK(t.str().empty());
    t.append("abc");
    CHECK(t.str() == "abc");
    CHECK(t.dropped() == 0);
    t.append("defghij");
    CHECK(t.str() == "cdefghij");
    CHECK(t.total() == 10);
    CHECK(t.dropped() == 2);
    for (int i = 0; i < 1000; ++i)
        t.append("0123456789");
    CHECK(t.str() == "23456789");
    t.append(std::string(100, 'z') + "END");
    CHECK(t.str() == "zzzzzEND");
    t.clear();
    CHECK(t.str().empty());
    CHECK(t.total() == 0);
    TailBuffer none(0);
    none.append("x");
    CHECK(none.str().empty());
    CHECK(none.dropped() == 1);
}
