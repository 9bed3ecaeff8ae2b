#include <catch2/catch.hpp>

#include <string>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/host/host_loop.hpp"
#include "ktstr/host/output_sink.hpp"

using namespace ktstr;
using namespace ktstr::host;

TEST_CASE("line start tracker: knows whether the output so far ends in a newline") {
    LineStartTracker t;
    std::string written;
    bool fail = false;
    auto sink = t.wrap([&](byte_view b) {
        written.append(b.begin(), b.end());
        return !fail;
    });
    CHECK(t.at_line_start());  // nothing written yet
    CHECK(sink(as_bytes("x")));
    CHECK_FALSE(t.at_line_start());
    CHECK(sink(as_bytes("a\nb\n")));
    CHECK(t.at_line_start());
    CHECK(sink({}));  // an empty write changes nothing
    CHECK(t.at_line_start());
    CHECK(sink(as_bytes("\nno newline at the end")));
    CHECK_FALSE(t.at_line_start());
    CHECK(written == "xa\nb\n\nno newline at the end");
    fail = true;
    CHECK_FALSE(sink(as_bytes("\n")));
    CHECK_FALSE(t.at_line_start());  // unknown what reached the reader
}

TEST_CASE("line start tracker: around the host loop's stdout sink, a guest stdout without a final newline") {
    for (const std::string last : {"printf x", "ends\n"}) {
        LineStartTracker t;
        HostLoopConfig c;
        c.stdout_sink = t.wrap([](byte_view) { return true; });
        c.diagnostics = [](byte_view) { return true; };
        HostLoop loop(std::move(c));
        loop.bulk_transmit(encode_frame(to_u32(MsgType::Stdout), as_bytes(last)));
        loop.stop_after_vcpus();  // not started: the final pass runs here
        CHECK(t.at_line_start() == last.ends_with('\n'));
    }
}
