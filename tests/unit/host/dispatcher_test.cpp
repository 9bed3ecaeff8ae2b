#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/host/dispatcher.hpp"

using namespace ktstr;
using namespace ktstr::host;

namespace {

Frame frame(MsgType t, bool crc_ok = true) {
    Frame f;
    f.header.msg_type = to_u32(t);
    f.crc_ok = crc_ok;
    return f;
}

}  // namespace

TEST_CASE("dispatcher: all-frame handlers first, then the type's, in subscription order") {
    Dispatcher d;
    std::vector<std::string> calls;
    d.subscribe(MsgType::Exit, [&](Channel, const Frame&) { calls.push_back("exit1"); });
    d.subscribe_all([&](Channel c, const Frame&) { calls.push_back(std::string("all:") + to_string(c)); });
    d.subscribe(MsgType::Exit, [&](Channel, const Frame&) { calls.push_back("exit2"); });
    d.subscribe(MsgType::Stdout, [&](Channel, const Frame&) { calls.push_back("stdout"); });

    d.dispatch(Channel::shm, frame(MsgType::Exit));
    CHECK(calls == std::vector<std::string>{"all:shm", "exit1", "exit2"});
    calls.clear();
    d.dispatch(Channel::bulk, frame(MsgType::Stdout));
    CHECK(calls == std::vector<std::string>{"all:bulk", "stdout"});
}

TEST_CASE("dispatcher: a frame with a bad CRC and an unknown type reach only all-frame handlers") {
    Dispatcher d;
    int all = 0, typed = 0;
    d.subscribe_all([&](Channel, const Frame&) { ++all; });
    d.subscribe(MsgType::SchedExit, [&](Channel, const Frame&) { ++typed; });
    d.dispatch(Channel::bulk, frame(MsgType::SchedExit, false));
    Frame unknown;
    unknown.header.msg_type = 0x12345678;
    unknown.crc_ok = true;
    d.dispatch(Channel::bulk, unknown);
    CHECK(all == 2);
    CHECK(typed == 0);
}

TEST_CASE("dispatcher: a throwing handler is counted and the others still run") {
    Dispatcher d;
    int after = 0;
    d.subscribe_all([](Channel, const Frame&) { throw std::runtime_error("subscriber broke"); });
    d.subscribe(MsgType::Crash, [&](Channel, const Frame&) { ++after; });
    d.dispatch(Channel::bulk, frame(MsgType::Crash));
    CHECK(after == 1);
    CHECK(d.handler_errors() == 1);
    CHECK(d.last_handler_error() == "subscriber broke");
}
