#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "ktstr/guest/starvation.hpp"

using namespace ktstr::guest;
using namespace std::chrono_literals;

namespace {

// Samples every 100 ms with the given progress values.
std::vector<ProgressSample> every_100ms(std::initializer_list<std::uint64_t> values) {
    std::vector<ProgressSample> s;
    std::chrono::nanoseconds t{0};
    for (auto v : values) {
        s.push_back({t, v});
        t += 100ms;
    }
    return s;
}

}  // namespace

TEST_CASE("starvation: a counter that keeps moving is not starved", "[guest][workload]") {
    const auto s = every_100ms({0, 5, 9, 20, 21, 30, 31, 40, 41, 50, 60, 61});
    const auto v = check_starvation(s, 1s);
    CHECK_FALSE(v.starved);
    CHECK(v.longest_stall == 0ns);
}

TEST_CASE("starvation: a counter stuck for the window is starved", "[guest][workload]") {
    // Moves, then stays at 7 from 200 ms to 1500 ms, then moves again.
    const auto s = every_100ms({0, 3, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 9});
    const auto v = check_starvation(s, 1s);
    CHECK(v.starved);
    CHECK(v.longest_stall == 1300ms);
    CHECK(v.stall_start == 200ms);
}

TEST_CASE("starvation: the edge of the window", "[guest][workload]") {
    SECTION("exactly the window: starved") {
        const std::vector<ProgressSample> s{{0ms, 0}, {10ms, 4}, {1010ms, 4}, {1020ms, 5}};
        CHECK(check_starvation(s, 1s).starved);
    }
    SECTION("one nanosecond short of it: not starved") {
        const std::vector<ProgressSample> s{{0ms, 0}, {10ms, 4}, {1010ms - 1ns, 4}, {1020ms, 5}};
        const auto v = check_starvation(s, 1s);
        CHECK_FALSE(v.starved);
        CHECK(v.longest_stall == 1000ms - 1ns);
    }
    SECTION("a worker that never started is starved from the release") {
        const auto s = every_100ms({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        const auto v = check_starvation(s, 1s);
        CHECK(v.starved);
        CHECK(v.stall_start == 0ns);
    }
    SECTION("two short stalls do not add up") {
        const auto s = every_100ms({0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3});
        const auto v = check_starvation(s, 1s);
        CHECK_FALSE(v.starved);
        CHECK(v.longest_stall == 500ms);
    }
}

TEST_CASE("starvation: degenerate input", "[guest][workload]") {
    CHECK_FALSE(check_starvation({}, 1s).starved);
    const std::vector<ProgressSample> one{{0ms, 0}};
    CHECK_FALSE(check_starvation(one, 1s).starved);
    CHECK_THROWS_AS(check_starvation(one, 0ns), std::invalid_argument);
}
