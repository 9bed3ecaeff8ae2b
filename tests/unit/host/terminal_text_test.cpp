#include <catch2/catch.hpp>

#include <string>

#include "ktstr/host/terminal_text.hpp"

using namespace ktstr::host;
using namespace std::string_literals;

TEST_CASE("terminal text: control characters become \\xNN, '\\n' included, on one line") {
    CHECK(terminal_line("plain text, ünïcødé €") == "plain text, ünïcødé €");
    CHECK(terminal_line("\x1b[2J\nktstr-vmm: fake") == "\\x1b[2J\\x0aktstr-vmm: fake");
    CHECK(terminal_line("a\rb\tc\x7f"s + '\0' + "d") == "a\\x0db\\x09c\\x7f\\x00d");
    // C1 controls as UTF-8 (U+009B is CSI on some terminals): the code point.
    CHECK(terminal_line("x\xc2\x9b" "31my") == "x\\x9b31my");
    // U+00A0 is the first code point after C1: kept.
    CHECK(terminal_line("\xc2\xa0") == "\xc2\xa0");
}

TEST_CASE("terminal text: invalid UTF-8 becomes \\xNN per byte") {
    CHECK(terminal_line("a\xff" "b") == "a\\xffb");
    CHECK(terminal_line("\x9b[2J") == "\\x9b[2J");              // a raw C1 byte is not UTF-8
    CHECK(terminal_line("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
    CHECK(terminal_line("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
    CHECK(terminal_line("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
    CHECK(terminal_line("ok\xe2\x82") == "ok\\xe2\\x82");       // truncated at the end
    CHECK(terminal_line("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");  // a valid 4-byte character
}

TEST_CASE("terminal text: the length is bounded on a character boundary, with what was left out") {
    CHECK(terminal_line(std::string(10, 'a'), 10) == std::string(10, 'a'));
    CHECK(terminal_line(std::string(11, 'a'), 10) == std::string(10, 'a') + " ... (1 bytes more)");
    // A 3-byte character that would cross the bound is left out whole.
    CHECK(terminal_line("abcdefghi€", 10) == "abcdefghi ... (3 bytes more)");
    // An escape is 4 bytes of output for 1 byte of input.
    CHECK(terminal_line("\x1b\x1b\x1b", 8) == "\\x1b\\x1b ... (1 bytes more)");
    CHECK(terminal_line(std::string(1 << 20, '\x1b')).size() < 1100);
}

TEST_CASE("terminal text: every line of a multi-line text gets the prefix; the line count is bounded") {
    const std::string p = "ktstr-vmm: guest crash| ";
    CHECK(terminal_lines("\x1b[2J\nktstr-vmm: fake", p) == p + "\\x1b[2J\n" + p + "ktstr-vmm: fake\n");
    CHECK(terminal_lines("one\n", p) == p + "one\n");
    CHECK(terminal_lines("", p) == p + "\n");
    CHECK(terminal_lines("a\n\nb\r\n", p) == p + "a\n" + p + "\n" + p + "b\n");
    CHECK(terminal_lines("1\n2\n3\n4\n5\n", p, 2) == p + "1\n" + p + "2\n" + p + "... (3 lines more)\n");
    CHECK(terminal_lines("1\n2\n3", p, 2) == p + "1\n" + p + "2\n" + p + "... (1 lines more)\n");
    CHECK(terminal_lines("1\n2\n", p, 2) == p + "1\n" + p + "2\n");
    CHECK(terminal_lines(std::string(5000, 'x'), p, 10, 100) == p + std::string(100, 'x') + " ... (4900 bytes more)\n");
}

TEST_CASE("terminal lines: a CRLF line end is a line end; a lone CR is still escaped") {
    CHECK(terminal_lines("one\r\ntwo\rx\r\n", "| ") == "| one\n| two\\x0dx\n");
}
