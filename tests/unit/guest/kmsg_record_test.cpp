#include <catch2/catch.hpp>

#include "ktstr/guest/kmsg_record.hpp"

using namespace ktstr::guest;
using namespace std::string_literals;

TEST_CASE("a kmsg record line is parsed and its text unescaped", "[kmsg]") {
    auto r = parse_kmsg_line("3,1234,5678901,-;sched_ext: BPF scheduler \"simple\" disabled (runtime error)");
    REQUIRE(r);
    CHECK(r->level == 3);
    CHECK(r->facility == 0);
    CHECK(r->seq == 1234);
    CHECK(r->ts_us == 5678901);
    CHECK(r->text == "sched_ext: BPF scheduler \"simple\" disabled (runtime error)");
    CHECK_FALSE(r->truncated);

    auto extra = parse_kmsg_line("14,7,8,c,caller=T1,more;user \\x5c \\x0a\\xe2\\x82\\xac \\x4 \\xZZ");
    REQUIRE(extra);
    CHECK(extra->level == 6);
    CHECK(extra->facility == 1);
    CHECK(extra->text == "user \\ \n\xE2\x82\xAC \\x4 \\xZZ");

    auto empty_text = parse_kmsg_line("6,1,2,-;");
    REQUIRE(empty_text);
    CHECK(empty_text->text.empty());
}

TEST_CASE("lines that are no record are refused", "[kmsg]") {
    CHECK_FALSE(parse_kmsg_line(""));
    CHECK_FALSE(parse_kmsg_line(" SUBSYSTEM=pci"));
    CHECK_FALSE(parse_kmsg_line("no semicolon at all"));
    CHECK_FALSE(parse_kmsg_line("6,1,2;three fields only"));
    CHECK_FALSE(parse_kmsg_line("x,1,2,-;bad prio"));
    CHECK_FALSE(parse_kmsg_line("6,,2,-;empty seq"));
    CHECK_FALSE(parse_kmsg_line("6,1,-2,-;negative ts"));
    CHECK_FALSE(parse_kmsg_line("6,1,99999999999999999999999,-;ts overflow"));
    CHECK_FALSE(parse_kmsg_line("\xff\xfe;,,,"));
}

TEST_CASE("dmesg lines carry seconds and microseconds", "[kmsg]") {
    KmsgRecord r;
    r.ts_us = 12345678;
    r.text = "hello";
    CHECK(format_dmesg_line(r) == "[   12.345678] hello\n");
    r.ts_us = 123456789012;
    r.truncated = true;
    CHECK(format_dmesg_line(r) == "[123456.789012] hello [truncated]\n");
}

TEST_CASE("the stream reassembles records split anywhere and skips continuation lines", "[kmsg]") {
    const std::string log = "6,1,100,-;first\n SUBSYSTEM=virtio\n DEVICE=+virtio:v1\n"
                            "3,2,200,-;second \\x28two\\x29\n"
                            "garbage line\n"
                            "\n"
                            "4,3,300,c;third\n";
    for (std::size_t step : {1u, 2u, 7u, 1000u}) {
        INFO("step " << step);
        KmsgStream s;
        std::vector<KmsgRecord> out;
        for (std::size_t i = 0; i < log.size(); i += step)
            s.feed(std::string_view(log).substr(i, step), out);
        REQUIRE(out.size() == 3);
        CHECK(out[0].text == "first");
        CHECK(out[1].text == "second (two)");
        CHECK(out[1].seq == 2);
        CHECK(out[2].text == "third");
        CHECK(s.continuation_lines() == 2);
        CHECK(s.malformed_lines() == 2);
    }
    KmsgStream s;
    std::vector<KmsgRecord> out;
    CHECK(s.feed("6,1,1,-;no newline yet", out) == 0);
    CHECK(s.feed("", out) == 0);
    CHECK(s.feed(" and now\n", out) == 1);
    CHECK(out.at(0).text == "no newline yet and now");
}

TEST_CASE("huge lines are cut at max_line and the stream goes on", "[kmsg]") {
    KmsgStream s;
    std::vector<KmsgRecord> out;
    const std::string header = "6,9,1,-;";
    const std::string big(5 * KmsgStream::max_line, 'x');
    // In pieces, so that the cut happens across feeds.
    s.feed(header, out);
    for (std::size_t i = 0; i < big.size(); i += 4096)
        s.feed(std::string_view(big).substr(i, 4096), out);
    s.feed("\n6,10,2,-;after\n", out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].truncated);
    CHECK(out[0].text.size() == KmsgStream::max_line - header.size());
    CHECK(out[0].text.find_first_not_of('x') == std::string::npos);
    CHECK(out[1].text == "after");
    CHECK_FALSE(out[1].truncated);
    CHECK(s.truncated_lines() == 1);

    // An endless line without a newline costs at most max_line bytes and
    // yields nothing until its newline.
    KmsgStream endless;
    for (int i = 0; i < 100; ++i)
        CHECK(endless.feed(std::string(64 * 1024, 'y'), out) == 0);
    CHECK(endless.feed("\n", out) == 0);  // no header: malformed
    CHECK(endless.malformed_lines() == 1);
}

TEST_CASE("binary garbage never yields a record it does not hold", "[kmsg]") {
    std::string garbage;
    std::uint32_t x = 12345;
    for (int i = 0; i < 200000; ++i) {
        x = x * 1103515245u + 12345u;
        garbage.push_back(static_cast<char>(x >> 24));
    }
    KmsgStream s;
    std::vector<KmsgRecord> out;
    s.feed(garbage, out);
    s.feed("\n6,1,2,-;real\n", out);
    REQUIRE_FALSE(out.empty());
    CHECK(out.back().text == "real");
    for (const auto& r : out)
        CHECK(r.text.size() <= KmsgStream::max_line);
}
