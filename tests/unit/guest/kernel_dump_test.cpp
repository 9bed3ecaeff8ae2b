#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include "append_file.hpp"
#include "guest_sandbox.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/guest/kernel_dump.hpp"
#include "ktstr/guest/senders.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::append;
using ktstr::test::GuestSandbox;

TEST_CASE("collecting from a log that cannot be opened returns at once", "[kernel_dump]") {
    GuestSandbox sb;
    auto log = KernelLog::open_at_end();
    REQUIRE_FALSE(log.is_open());
    // The limits would wait an hour for a quiet log: a closed one is not waited on.
    KernelLogLimits hour;
    hour.quiet = 1h;
    hour.total = 1h;
    CHECK(collect_kernel_log(log, hour).empty());
}

TEST_CASE("collect_kernel_log stops after the quiet time and at its byte bound", "[kernel_dump]") {
    GuestSandbox sb;
    append(sb.path("kmsg"), "");
    auto log = KernelLog::open_at_end();
    append(sb.path("kmsg"), "6,1,1000000,-;one\n6,2,2500000,-;two\n");
    KernelLogLimits limits;
    limits.quiet = 50ms;
    const auto text = collect_kernel_log(log, limits);
    CHECK(text == "[    1.000000] one\n[    2.500000] two\n");

    std::string big;
    for (int i = 0; i < 1000; ++i)
        big += "6," + std::to_string(i) + ",1,-;" + std::string(100, 'k') + "\n";
    append(sb.path("kmsg"), big);
    limits.max_bytes = 10000;
    const auto cut = collect_kernel_log(log, limits);
    CHECK(cut.size() > 9000);
    CHECK(cut.size() < 10000 + 200);
    CHECK_THAT(cut, Catch::EndsWith("-byte limit not sent]\n"));
}

TEST_CASE("trigger_sysrq_dump writes D, Dmesg text goes out in chunks", "[kernel_dump]") {
    GuestSandbox sb;
    sb.attach_port();
    ktstr::test::write_text(sb.path("sysrq-trigger"), "");
    CHECK(trigger_sysrq_dump());
    CHECK(ktstr::test::read_text(sb.path("sysrq-trigger")) == "D");
    std::filesystem::remove(sb.path("sysrq-trigger"));
    ::mkdir(sb.path("sysrq-trigger").c_str(), 0700);  // a directory cannot be written
    CHECK_FALSE(trigger_sysrq_dump());

    const std::string text(100000, 'd');
    CHECK(send_dmesg_text(text) == 0);
    auto frames = ktstr::test::read_frames(sb.host(), 4, 5s);
    REQUIRE(frames.size() == 4);
    std::string got;
    for (const auto& f : frames) {
        CHECK(f.msg_type() == to_u32(MsgType::Dmesg));
        CHECK(f.payload.size() <= stream_chunk_size);
        got += ktstr::test::text(f);
    }
    CHECK(got == text);
    CHECK(send_dmesg_text("") == 0);
    CHECK_FALSE(ktstr::test::readable(sb.host()));
}

TEST_CASE("the sched_ext_dump trace event: enabled, its lines read from the pipe, other events skipped", "[kernel_dump]") {
    GuestSandbox sb;
    // Without tracefs: closed, quietly (most kernels have no sched_ext).
    auto none = DumpTrace::open();
    CHECK_FALSE(none.is_open());
    CHECK(none.error().find("sched_ext_dump/enable") != std::string::npos);
    CHECK(collect_dump_trace(none).empty());

    std::filesystem::create_directories(sb.dir() / "tracing/events/sched_ext/sched_ext_dump");
    append(sb.path("tracing/events/sched_ext/sched_ext_dump/enable"), "0");
    REQUIRE(::mkfifo(sb.path("tracing/trace_pipe").c_str(), 0600) == 0);
    auto trace = DumpTrace::open();
    REQUIRE(trace.is_open());
    CHECK(ktstr::test::read_text(sb.path("tracing/events/sched_ext/sched_ext_dump/enable")) == "1");
    {
        // Held open so that the writer need not wait for a reader: each
        // read of DumpTrace opens the pipe anew (the kernel allows one
        // reader at a time) and takes what is in it.
        UniqueFd keep(::open(sb.path("tracing/trace_pipe").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        REQUIRE(keep);
        UniqueFd w(::open(sb.path("tracing/trace_pipe").c_str(), O_WRONLY | O_CLOEXEC));
        REQUIRE(w);
        const std::string a = "              sh-36      [001] dN...    11.412845: sched_ext_dump: Debug dump triggered by SysRq-D\n"
                              "              sh-36      [001] d....    11.412900: sched_switch: prev_comm=sh\n"
                              "              sh-36      [001] dN...    11.413594: sched_ext_dump: CPU st";
        const std::string b = "ates\n              sh-36      [001] dN...    11.413601: sched_ext_dump: \n";
        REQUIRE(::write(w.get(), a.data(), a.size()) == static_cast<ssize_t>(a.size()));
        REQUIRE(::write(w.get(), b.data(), b.size()) == static_cast<ssize_t>(b.size()));
        w.reset();  // the writer is gone: the reader sees the end after the data
        CHECK(collect_dump_trace(trace) ==
              "sched_ext_dump: Debug dump triggered by SysRq-D\nsched_ext_dump: CPU states\nsched_ext_dump: \n");
    }
}

TEST_CASE("dump_line_of: the text after the event's name, nothing for other lines", "[kernel_dump]") {
    CHECK(dump_line_of("  <idle>-0 [000] d.h2. 1.0: sched_ext_dump: CPU 1   : nr_run=1") ==
          std::optional<std::string_view>("CPU 1   : nr_run=1"));
    CHECK(dump_line_of("  <idle>-0 [000] d.h2. 1.0: sched_ext_dump: ") == std::optional<std::string_view>(""));
    CHECK_FALSE(dump_line_of("# tracer: nop"));
    CHECK_FALSE(dump_line_of("  sh-1 [000] .... 1.0: sched_switch: sched_ext_dump"));
}
