#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/frame_json.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/json_nesting.hpp"
#include "ktstr/host/message_log.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr;
using namespace ktstr::host;
using ktstr::test::read_text;
using ktstr::test::TempDir;

namespace {

Frame make(MsgType t, byte_view payload) {
    Frame f;
    f.header = make_frame_header(to_u32(t), payload);
    f.payload.assign(payload.begin(), payload.end());
    f.crc_ok = true;
    return f;
}

}  // namespace

TEST_CASE("json nesting guard counts brackets outside strings only") {
    CHECK(json_nesting_within(as_bytes(R"({"a":[1,{"b":[]}]})"), 4));
    CHECK_FALSE(json_nesting_within(as_bytes(R"({"a":[1,{"b":[]}]})"), 3));
    CHECK(json_nesting_within(as_bytes(R"({"m":"[[[[[[[[\"[[[["})"), 1));
    CHECK(json_nesting_within(as_bytes(std::string(64, '[')), 64));
    CHECK_FALSE(json_nesting_within(as_bytes(std::string(65, '[')), 64));
    CHECK(json_nesting_within(as_bytes("]]]]}}}"), 0));  // unbalanced closers do not underflow
}

TEST_CASE("message log: one decode-format line per frame, in order, with its channel") {
    TempDir dir{"host-test"};
    const auto path = dir.path() / "messages.jsonl";
    MessageLog log(path);
    const auto exit_payload = encode_i32(3);
    const auto stdout_payload = as_bytes("hello\n");
    log.write(Channel::shm, make(MsgType::Exit, exit_payload));
    auto bad = make(MsgType::Stdout, stdout_payload);
    bad.crc_ok = false;
    log.write(Channel::bulk, bad);
    REQUIRE(log.flush());
    CHECK(log.lines() == 2);

    std::istringstream lines(read_text(path));
    std::string l1, l2;
    std::getline(lines, l1);
    std::getline(lines, l2);
    // The decode format's keys first, in its order, then the channel.
    auto with_channel = [](nlohmann::ordered_json j, const char* channel) {
        j["channel"] = channel;
        return j.dump();
    };
    CHECK(l1 == with_channel(frame_to_json(make(MsgType::Exit, exit_payload)), "shm"));
    CHECK(l2 == with_channel(frame_to_json(bad), "bulk"));
    CHECK(log.bytes() == l1.size() + l2.size() + 2);
    CHECK(log.error().empty());
}

TEST_CASE("message log: a deeply nested JSON payload is logged without being parsed") {
    // 200 000 '[' would overflow the stack inside nlohmann-json.
    const std::string deep(200000, '[');
    const auto line = frame_json_line(Channel::bulk, make(MsgType::TestResult, as_bytes(deep)));
    auto j = nlohmann::json::parse(line);
    CHECK(j["type"] == "TEST");
    CHECK(j["length"] == deep.size());
    CHECK(j["fields"]["error"].get<std::string>().find("nests deeper than 64 levels") != std::string::npos);
    CHECK(j["payload_hex"].get<std::string>().size() == 2 * deep.size());

    // A shallow one is decoded as usual.
    const auto ok = frame_json_line(Channel::bulk, make(MsgType::TestResult, as_bytes(R"({"passed":true})")));
    CHECK(nlohmann::json::parse(ok)["fields"]["passed"] == true);
}

TEST_CASE("message log: invalid UTF-8 in a crash text is replaced, not thrown") {
    const std::uint8_t text[] = {'o', 'o', 'p', 's', 0xff, 0xc3};
    const auto line = frame_json_line(Channel::bulk, make(MsgType::Crash, text));
    CHECK(nlohmann::json::parse(line)["type"] == "CRSH");
}

TEST_CASE("message log: past its cap frames are left out, counted, and a last line says so") {
    TempDir dir{"host-test"};
    const auto frame = make(MsgType::SysRdy, {});
    const auto line_bytes = frame_json_line(Channel::bulk, frame).size() + 1;
    MessageLog log(dir.path() / "m.jsonl", 2 * line_bytes + line_bytes / 2);
    for (int i = 0; i < 2; ++i)
        log.write(Channel::bulk, frame);
    log.write(Channel::bulk, make(MsgType::Stdout, as_bytes("12345")));  // does not fit
    log.write(Channel::bulk, frame);  // would fit, but the log stays a prefix of the run
    REQUIRE(log.finish());
    CHECK(log.lines() == 2);
    CHECK(log.bytes() == 2 * line_bytes);
    CHECK(log.left_out_frames() == 2);
    CHECK(log.left_out_payload_bytes() == 5);

    std::istringstream lines(read_text(dir.path() / "m.jsonl"));
    std::vector<std::string> got;
    for (std::string l; std::getline(lines, l);)
        got.push_back(l);
    REQUIRE(got.size() == 3);
    CHECK(nlohmann::json::parse(got[1])["type"] == "SRDY");
    CHECK(nlohmann::json::parse(got[2]) ==
          nlohmann::json::parse(R"({"left_out":{"frames":2,"payload_bytes":5,"cap_bytes":)" +
                                std::to_string(2 * line_bytes + line_bytes / 2) + "}}"));

    // A log that stayed under its cap ends without that line.
    MessageLog small(dir.path() / "s.jsonl", 1 << 20);
    small.write(Channel::bulk, frame);
    REQUIRE(small.finish());
    CHECK(read_text(dir.path() / "s.jsonl").find("left_out") == std::string::npos);
}

TEST_CASE("message log: an unopenable path throws; no_follow refuses a symbolic link") {
    TempDir dir{"host-test"};
    CHECK_THROWS_AS(MessageLog(dir.path() / "missing" / "m.jsonl"), std::runtime_error);
    std::filesystem::create_symlink(dir.path() / "target", dir.path() / "link.jsonl");
    CHECK_THROWS_AS(MessageLog(dir.path() / "link.jsonl", message_log_default_max_bytes, true), std::runtime_error);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "target"));
}
