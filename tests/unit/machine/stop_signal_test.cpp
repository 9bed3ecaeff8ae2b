#include <catch2/catch.hpp>

#include <thread>

#include "machine/stop_signal.hpp"

using namespace ktstr::vmm::machine;
using namespace std::chrono_literals;

TEST_CASE("the first stop reason wins") {
    StopSignal s;
    CHECK_FALSE(s.stopped());
    s.request(StopReason::power_off, "first");
    s.request(StopReason::reset, "second");
    auto r = s.wait_until(std::chrono::steady_clock::now());
    REQUIRE(r);
    CHECK(r->reason == StopReason::power_off);
    CHECK(r->detail == "first");
}

TEST_CASE("wait_until returns nothing at the deadline, and a reason from another thread") {
    StopSignal s;
    CHECK_FALSE(s.wait_until(std::chrono::steady_clock::now() + 1ms));
    std::jthread t([&] { s.request(StopReason::reset); });
    auto r = s.wait_until(std::chrono::steady_clock::now() + 60s);
    REQUIRE(r);
    CHECK(r->reason == StopReason::reset);
}

TEST_CASE("wake ends a wait without a reason") {
    StopSignal s;
    std::jthread t([&] {
        std::this_thread::sleep_for(1ms);
        s.wake();
    });
    // Either the wake or (if it raced ahead) the deadline ends the wait;
    // neither records a reason.
    CHECK_FALSE(s.wait_until(std::chrono::steady_clock::now() + 60s));
    CHECK_FALSE(s.stopped());
}
