#include <catch2/catch.hpp>

#include "ktstr/common/utf8.hpp"

using namespace ktstr;
using namespace std::string_literals;

TEST_CASE("valid UTF-8 passes unchanged", "[utf8]") {
    for (std::string s : {""s, "plain ascii"s, "caf\xC3\xA9"s, "\xE2\x82\xAC 5"s, "\xF0\x9F\x98\x80"s,
                          "\xF4\x8F\xBF\xBF"s /* U+10FFFF */, "a\nb\tc\0d"s})
        CHECK(valid_utf8(s) == s);
}

TEST_CASE("each byte outside a well-formed sequence becomes U+FFFD", "[utf8]") {
    const std::string r = "\xEF\xBF\xBD";
    CHECK(valid_utf8("\xFF") == r);
    CHECK(valid_utf8("a\x80z") == "a" + r + "z");
    CHECK(valid_utf8("\xC0\xAF") == r + r);              // overlong '/'
    CHECK(valid_utf8("\xE0\x80\xAF") == r + r + r);      // overlong, three bytes
    CHECK(valid_utf8("\xED\xA0\x80") == r + r + r);      // a surrogate
    CHECK(valid_utf8("\xF4\x90\x80\x80") == r + r + r + r);  // above U+10FFFF
    CHECK(valid_utf8("ok\xE2\x82") == "ok" + r + r);     // cut short at the end
    CHECK(valid_utf8("\xE2\x82" "A") == r + r + "A");
}

TEST_CASE("prefixes and suffixes are cut at character boundaries", "[utf8]") {
    const std::string s = "ab\xE2\x82\xAC" "cd";  // a b € c d: 7 bytes
    CHECK(utf8_prefix_length(s, 100) == s.size());
    CHECK(utf8_prefix_length(s, 2) == 2);
    CHECK(utf8_prefix_length(s, 3) == 2);  // would split the euro sign
    CHECK(utf8_prefix_length(s, 4) == 2);
    CHECK(utf8_prefix_length(s, 5) == 5);
    CHECK(utf8_prefix_length(s, 0) == 0);
    CHECK(utf8_suffix_start(s, 100) == 0);
    CHECK(utf8_suffix_start(s, 2) == 5);
    CHECK(utf8_suffix_start(s, 3) == 5);  // "\x82\xAC" "cd" would start inside it
    CHECK(utf8_suffix_start(s, 4) == 5);
    CHECK(utf8_suffix_start(s, 5) == 2);
    CHECK(utf8_suffix_start(s, 0) == s.size());
}
