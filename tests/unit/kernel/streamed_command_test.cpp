// Long host programs run with their output streamed and their input pumped.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "kernel_build/streamed_command.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::kernel_build;
using ktstr::test::TempDir;

TEST_CASE("lines are split across chunks", "[kernel_build]") {
    std::vector<std::string> lines;
    LineSplitter s([&](std::string_view l) { lines.emplace_back(l); });
    s.feed("one\ntw");
    s.feed("o\n\nthr");
    s.feed("ee");
    CHECK(lines == std::vector<std::string>{"one", "two", ""});
    s.flush();
    CHECK(lines.back() == "three");
}

TEST_CASE("output, status, environment and input of a streamed command", "[kernel_build]") {
    std::string out;
    StreamedCommand c;
    c.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
    c.on_output = [&](std::string_view chunk) { out.append(chunk); };
    CHECK(run_streamed(c) == 3);
    CHECK(out == "out\nerr\n");

    out.clear();
    c.argv = {"sh", "-c", "echo \"$ONLY\" \"${HOME:-none}\""};
    c.environment = std::vector<std::string>{"ONLY=this", "PATH=/usr/bin:/bin"};
    CHECK(run_streamed(c) == 0);
    CHECK(out == "this none\n");

    // 3 MiB through stdin: all of it arrives, progress reaches the end.
    TempDir d{"kbuild"};
    const auto input = d.write("in", std::string(3 << 20, 'x'));
    out.clear();
    std::uint64_t progress = 0;
    StreamedCommand wc;
    wc.argv = {"wc", "-c"};
    wc.input = input;
    wc.on_input_progress = [&](std::uint64_t n) { progress = n; };
    wc.on_output = [&](std::string_view chunk) { out.append(chunk); };
    CHECK(run_streamed(wc) == 0);
    CHECK(out == std::to_string(3 << 20) + "\n");
    CHECK(progress == (3u << 20));

    // A program that stops reading early: no SIGPIPE for us, its status.
    StreamedCommand early;
    early.argv = {"sh", "-c", "head -c 10 >/dev/null; exit 5"};
    early.input = input;
    CHECK(run_streamed(early) == 5);

    StreamedCommand missing;
    missing.argv = {"ktstr-no-such-program"};
    CHECK_THROWS_WITH(run_streamed(missing), Catch::Contains("not found"));
}
