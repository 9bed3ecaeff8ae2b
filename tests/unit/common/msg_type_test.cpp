#include <catch2/catch.hpp>

#include <set>

#include "ktstr/common/msg_type.hpp"

using namespace ktstr;

TEST_CASE("catalogue has every ktstr type with ktstr's values", "[msg_type]") {
    const std::pair<const char*, std::uint32_t> expected[] = {
        {"STIM", 0x5354494D}, {"SCST", 0x53435354}, {"SCEN", 0x5343454E}, {"SCPP", 0x53435050},
        {"SCRR", 0x53435252}, {"EXIT", 0x45584954}, {"TEST", 0x54455354}, {"SCDX", 0x53434458},
        {"CRSH", 0x43525348}, {"PMET", 0x504D4554}, {"RAWO", 0x5241574F}, {"PRAW", 0x50524157},
        {"SNRQ", 0x534E5251}, {"SNRP", 0x534E5250}, {"SRDY", 0x53524459}, {"KADR", 0x4B414452},
        {"SOUT", 0x534F5554}, {"SERR", 0x53455252}, {"SCLG", 0x53434C47}, {"LIFE", 0x4C494645},
        {"EXCX", 0x45584358}, {"DMSG", 0x444D5347}, {"PROB", 0x50524F42},
    };
    CHECK(all_msg_types().size() == std::size(expected));
    for (auto [tag, value] : expected) {
        INFO(tag);
        auto by_value = find_msg_type(value);
        REQUIRE(by_value);
        CHECK(by_value->tag == tag);
        auto by_tag = find_msg_type(std::string_view(tag));
        REQUIRE(by_tag);
        CHECK(to_u32(by_tag->type) == value);
        CHECK(tag_of(value) == tag);
        auto by_name = find_msg_type(by_value->name);
        REQUIRE(by_name);
        CHECK(to_u32(by_name->type) == value);
    }
}

TEST_CASE("values and tags are unique", "[msg_type]") {
    std::set<std::uint32_t> values;
    std::set<std::string_view> tags;
    for (const auto& e : all_msg_types()) {
        values.insert(to_u32(e.type));
        tags.insert(e.tag);
    }
    CHECK(values.size() == all_msg_types().size());
    CHECK(tags.size() == all_msg_types().size());
}

TEST_CASE("unknown values are not found but still get a printable tag", "[msg_type]") {
    CHECK_FALSE(find_msg_type(0u));
    CHECK_FALSE(find_msg_type(0x41424344u));
    CHECK_FALSE(find_msg_type(std::string_view("NOPE")));
    CHECK(tag_of(0x41424344) == "ABCD");
    CHECK(tag_of(0x00014142) == "..AB");
}
