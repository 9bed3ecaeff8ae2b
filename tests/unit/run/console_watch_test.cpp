#include <catch2/catch.hpp>

#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "run/console_watch.hpp"

using namespace ktstr;
using namespace ktstr::vmm;
using namespace ktstr::vmm::run;

namespace {
void feed_bytewise(ConsoleWatch& w, std::string_view s) {
    for (char c : s) {
        const auto b = static_cast<std::uint8_t>(c);
        w.feed(byte_view(&b, 1));
    }
}
}  // namespace

TEST_CASE("a kernel panic is recognised as soon as its marker is complete, then kept whole") {
    int calls = 0;
    std::string seen;
    ConsoleWatch w({}, false, [&](std::string_view l) {
        ++calls;
        seen = l;
    });
    feed_bytewise(w, "[    1.0] booting\r\n[    2.0] Kernel panic - not syncing");
    CHECK(calls == 1);
    CHECK(seen == "Kernel panic - not syncing");
    feed_bytewise(w, ": sysrq triggered crash\r\n[    2.1] ---[ end Kernel panic - not syncing: sysrq ]---\r\n");
    CHECK(calls == 1);
    CHECK(w.panic_line() == "Kernel panic - not syncing: sysrq triggered crash");
    const auto last = w.last_lines(2);
    REQUIRE(last.size() == 2);
    CHECK(last[0] == "[    2.0] Kernel panic - not syncing: sysrq triggered crash");
}

TEST_CASE("no panic, lines kept up to the limit, long lines cut") {
    ConsoleWatch w({}, false);
    for (int i = 0; i < 100; ++i)
        w.feed(as_bytes("line " + std::to_string(i) + "\n"));
    CHECK_FALSE(w.panic_line());
    auto last = w.last_lines(1000);
    CHECK(last.size() == ConsoleWatch::kept_lines);
    CHECK(last.back() == "line 99");
    w.feed(as_bytes(std::string(10000, 'x') + "\n"));
    CHECK(w.last_lines(1).at(0).size() == ConsoleWatch::max_line);
}

TEST_CASE("the console is copied to the log descriptor byte for byte") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    UniqueFd rd(p[0]);
    {
        ConsoleWatch w(UniqueFd(p[1]), false);
        w.feed(as_bytes("abc\r\n"));
        w.feed(as_bytes("def"));
    }
    char buf[32];
    const auto n = ::read(rd.get(), buf, sizeof buf);
    CHECK(std::string(buf, static_cast<std::size_t>(n)) == "abc\r\ndef");
}

TEST_CASE("the console log stops at its cap and ends with a line saying what was left out") {
    auto logged = [](std::uint64_t cap, std::initializer_list<std::string_view> parts) {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        UniqueFd rd(p[0]);
        std::uint64_t left_out = 0;
        {
            ConsoleWatch w(UniqueFd(p[1]), false, {}, cap);
            for (auto part : parts)
                w.feed(as_bytes(part));
            w.finish();
            w.finish();  // once only
            left_out = w.log_left_out();
        }
        std::string all;
        char buf[256];
        for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) > 0;)
            all.append(buf, static_cast<std::size_t>(n));
        return std::pair{all, left_out};
    };
    auto [cut, n] = logged(10, {"0123456", "789abcdef", "ghij\n"});
    CHECK(cut == "0123456789\nktstr-vmm: console log cap of 10 bytes reached; 11 bytes left out\n");
    CHECK(n == 11);
    // Cut just after a newline: no empty line before the note.
    auto [at_line, m] = logged(4, {"abc\ndef"});
    CHECK(at_line == "abc\nktstr-vmm: console log cap of 4 bytes reached; 3 bytes left out\n");
    // Under the cap: the console alone.
    CHECK(logged(100, {"abc\n", "def"}).first == "abc\ndef");
}
