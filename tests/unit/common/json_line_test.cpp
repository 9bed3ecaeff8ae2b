#include <catch2/catch.hpp>

#include "ktstr/common/json_line.hpp"

using namespace ktstr;

TEST_CASE("json_line is compact, one line, and keeps an ordered object's order", "[json]") {
    nlohmann::ordered_json o;
    o["z"] = 1;
    o["a"] = "multi\nline";
    CHECK(json_line(o) == R"({"z":1,"a":"multi\nline"})");
    CHECK(json_line(nlohmann::json{{"b", true}, {"a", nullptr}}) == R"({"a":null,"b":true})");
}

TEST_CASE("json_line replaces invalid UTF-8 instead of throwing", "[json]") {
    const nlohmann::ordered_json j{{"text", std::string("ok\xff\xc3")}};
    CHECK(json_line(j) == "{\"text\":\"ok\xef\xbf\xbd\xef\xbf\xbd\"}");
    CHECK(json_line(nlohmann::json(std::string("\xfe"))) == "\"\xef\xbf\xbd\"");
}
