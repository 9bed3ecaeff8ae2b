#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "run/timeout_dump.hpp"

using namespace ktstr::vmm::run;
using namespace std::chrono_literals;

namespace {

// Polls `cond` for up to a minute: the verdict never depends on how fast
// the other thread is, only whether it gets there.
template <class F>
bool eventually(F cond) {
    const auto end = std::chrono::steady_clock::now() + 60s;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

TEST_CASE("timeout dump: asks for the dump at the deadline and stops only once the output went quiet") {
    std::atomic<int> requests{0}, stops{0};
    TimeoutDump d({[&] { return ++requests, true; }, [&] { ++stops; }, 20ms, 1h});
    d.arm(TimeoutDump::clock::now());
    REQUIRE(eventually([&] { return requests.load() == 1; }));
    // No output yet and an hour of grace: the guest is not stopped.
    CHECK(stops.load() == 0);
    d.note_output();
    REQUIRE(eventually([&] { return stops.load() == 1; }));
    CHECK(requests.load() == 1);
    d.cancel();
    CHECK(d.requested());
}

TEST_CASE("timeout dump: without a way to ask, the guest is stopped at the deadline") {
    std::atomic<int> stops{0};
    TimeoutDump d({[] { return false; }, [&] { ++stops; }, 1h, 1h});
    d.arm(TimeoutDump::clock::now());
    REQUIRE(eventually([&] { return stops.load() == 1; }));
}

TEST_CASE("timeout dump: a silent guest is stopped after the grace period") {
    std::atomic<int> stops{0};
    TimeoutDump d({[] { return true; }, [&] { ++stops; }, 1h, 10ms});
    d.arm(TimeoutDump::clock::now());
    REQUIRE(eventually([&] { return stops.load() == 1; }));
}

TEST_CASE("timeout dump: cancelled before the deadline, nothing happens; a second arm is ignored") {
    std::atomic<int> requests{0}, stops{0};
    {
        TimeoutDump d({[&] { return ++requests, true; }, [&] { ++stops; }, 1ms, 1ms});
        d.arm(TimeoutDump::clock::now() + 1h);
        d.arm(TimeoutDump::clock::now());  // the deadline never moves
        d.cancel();
        CHECK_FALSE(d.requested());
    }  // joined
    CHECK(requests.load() == 0);
    CHECK(stops.load() == 0);
}

TEST_CASE("timeout dump: after stop() no callback runs, and arm() or note_output() do nothing") {
    std::atomic<int> requests{0}, stops{0};
    TimeoutDump d({[&] { return ++requests, true; }, [&] { ++stops; }, 1ms, 1ms});
    d.stop();
    d.stop();  // idempotent
    d.arm(TimeoutDump::clock::now());
    d.note_output();
    d.stop();
    CHECK_FALSE(d.requested());
    CHECK(requests.load() == 0);
    CHECK(stops.load() == 0);
}
