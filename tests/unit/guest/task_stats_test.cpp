#include <catch2/catch.hpp>

#include "ktstr/guest/task_stats.hpp"

using namespace ktstr::guest;
using namespace std::chrono_literals;

TEST_CASE("task stats: the run delay is schedstat's second field", "[guest][workload]") {
    CHECK(parse_schedstat_run_delay("123456 7890 12\n") == std::optional(7890ns));
    CHECK(parse_schedstat_run_delay("1 2 3") == std::optional(2ns));
    CHECK_FALSE(parse_schedstat_run_delay(""));
    CHECK_FALSE(parse_schedstat_run_delay("1 2\n"));
    CHECK_FALSE(parse_schedstat_run_delay("1 x 3\n"));
    CHECK_FALSE(parse_schedstat_run_delay("1 2 3 4\n"));
    CHECK_FALSE(parse_schedstat_run_delay("-1 2 3\n"));
}

TEST_CASE("task stats: a delta is absent when either side is", "[guest][workload]") {
    TaskStats a{10ns, 1, std::nullopt};
    TaskStats b{25ns, 4, 9};
    const auto d = stats_delta(a, b);
    CHECK(d.run_delay == std::optional(15ns));
    CHECK(d.voluntary_switches == std::optional<std::uint64_t>(3));
    CHECK_FALSE(d.involuntary_switches);
    CHECK_FALSE(stats_delta(b, a).run_delay);  // backwards: not a number to trust
    // The calling thread: getrusage always answers.
    const auto now = read_thread_stats();
    CHECK(now.voluntary_switches.has_value());
    CHECK(now.involuntary_switches.has_value());
}
