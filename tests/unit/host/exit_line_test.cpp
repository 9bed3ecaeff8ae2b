#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ktstr/host/exit_line.hpp"

using namespace ktstr::host;

namespace {
ktstr::byte_view bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("exit line: only KTSTR_EXIT=N with N in 0..255") {
    CHECK(parse_exit_line("KTSTR_EXIT=0") == 0);
    CHECK(parse_exit_line("KTSTR_EXIT=3") == 3);
    CHECK(parse_exit_line("KTSTR_EXIT=255\r") == 255);
    CHECK_FALSE(parse_exit_line("KTSTR_EXIT=256"));
    CHECK_FALSE(parse_exit_line("KTSTR_EXIT=-1"));
    CHECK_FALSE(parse_exit_line("KTSTR_EXIT="));
    CHECK_FALSE(parse_exit_line("KTSTR_EXIT=1x"));
    CHECK_FALSE(parse_exit_line("KTSTR_EXIT=0001"));
    CHECK_FALSE(parse_exit_line(" KTSTR_EXIT=1"));
    CHECK_FALSE(parse_exit_line("ktstr-init: error: KTSTR_EXIT=1"));
}

TEST_CASE("exit line scanner: lines split across reads, last exit line wins, others passed on") {
    std::vector<std::string> others;
    ExitLineScanner s([&](std::string_view l) { others.emplace_back(l); });
    s.feed(bytes("ktstr-init: error: boom\nKTST"));
    CHECK_FALSE(s.exit_code());
    s.feed(bytes("R_EXIT=7"));
    CHECK_FALSE(s.exit_code());  // not a line until its newline (or the end)
    s.feed(bytes("\r\nKTSTR_EXIT=9\n"));
    CHECK(s.exit_code() == 9);
    s.feed(bytes("tail without newline"));
    s.finish();
    CHECK(s.exit_code() == 9);
    REQUIRE(others.size() == 2);
    CHECK(others[0] == "ktstr-init: error: boom");
    CHECK(others[1] == "tail without newline");
}

TEST_CASE("exit line scanner: a final exit line without newline counts") {
    ExitLineScanner s;
    s.feed(bytes("KTSTR_EXIT=42"));
    s.finish();
    CHECK(s.exit_code() == 42);
}

TEST_CASE("exit line scanner: an overlong line is cut and never taken for an exit line") {
    std::vector<std::string> others;
    ExitLineScanner s([&](std::string_view l) { others.emplace_back(l); });
    std::string junk = "KTSTR_EXIT=1" + std::string(ExitLineScanner::max_line * 3, 'x') + "\n";
    s.feed(bytes(junk));
    CHECK_FALSE(s.exit_code());
    REQUIRE(others.size() == 1);
    CHECK(others[0].size() == ExitLineScanner::max_line);
}
