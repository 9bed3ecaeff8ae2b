// Each kind run for real on this machine (it has 2 CPUs), briefly. What is
// asserted does not depend on timing or load: every worker does one unit of
// work before it looks at the deadline, affinity is the kernel's promise,
// and the stop grace is long enough that only a hang would reach it.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cerrno>
#include <stdexcept>

#include "ktstr/guest/workload_run.hpp"

using namespace ktstr::guest;
using namespace std::chrono_literals;

namespace {

Workload one_group(WorkerGroup g, std::chrono::milliseconds duration = 100ms) {
    Workload w;
    w.duration = duration;
    w.stop_grace = 20s;  // a bound for a hang, never reached by a working run
    w.groups.push_back(std::move(g));
    return w;
}

void check_everyone_progressed(const WorkloadResult& r) {
    for (const auto& w : r.workers) {
        INFO(w.group << " worker " << w.index);
        CHECK(w.progress > 0);
        CHECK_FALSE(w.stuck);
        REQUIRE_FALSE(w.samples.empty());
        CHECK(w.samples.front().progress == 0);  // sampled before the release
        CHECK_FALSE(w.cpus.empty());
        CHECK(w.stats.voluntary_switches.has_value());
    }
}

}  // namespace

TEST_CASE("workload: spin, pinned to CPU 0, stays there", "[guest][workload]") {
    const auto r = run_workload(one_group({.name = "spin", .kind = Spin{.batch = 256}, .count = 2, .cpus = {0}}));
    REQUIRE(r.workers.size() == 2);
    check_everyone_progressed(r);
    for (const auto& w : r.workers) {
        CHECK(w.cpus == std::vector<int>{0});
        CHECK(w.migrations == 0);
        CHECK(w.progress % 256 == 0);  // counted in whole batches
        CHECK_FALSE(w.measures_wakes);
        CHECK(w.wake_latency.count() == 0);
    }
    REQUIRE(r.groups.size() == 1);
    CHECK(r.groups[0].kind == "spin");
    CHECK(r.groups[0].progress_total == r.workers[0].progress + r.workers[1].progress);
    CHECK(r.groups[0].cpus == std::vector<int>{0});
}

TEST_CASE("workload: sleep_wake measures a wake latency per wake", "[guest][workload]") {
    const auto r = run_workload(one_group({.name = "sleepers", .kind = SleepWake{.sleep = 200us}, .count = 2}));
    check_everyone_progressed(r);
    for (const auto& w : r.workers) {
        CHECK(w.measures_wakes);
        CHECK(w.wake_latency.count() == w.progress);
    }
    CHECK(r.groups[0].wake_latency.count() == r.groups[0].progress_total);
}

TEST_CASE("workload: yield, round-robin over CPUs 0 and 1", "[guest][workload]") {
    const auto r = run_workload(one_group({.name = "yielders", .kind = Yield{}, .count = 2, .cpus = {0, 1}}));
    check_everyone_progressed(r);
    CHECK(r.workers[0].cpus == std::vector<int>{0});
    CHECK(r.workers[1].cpus == std::vector<int>{1});
    CHECK(r.groups[0].cpus == std::vector<int>{0, 1});
    CHECK(r.groups[0].migrations == 0);
}

TEST_CASE("workload: pipe_pingpong pairs across CPUs answer every token", "[guest][workload]") {
    const auto r =
        run_workload(one_group({.name = "chain", .kind = PipePingpong{}, .count = 4, .cpus = {0, 1}}));
    REQUIRE(r.workers.size() == 4);
    check_everyone_progressed(r);
    for (std::size_t pair = 0; pair < 2; ++pair) {
        const auto& first = r.workers[2 * pair];
        const auto& second = r.workers[2 * pair + 1];
        CHECK(first.cpus == std::vector<int>{0});
        CHECK(second.cpus == std::vector<int>{1});
        // The second receives every token the first sends; the first gets
        // an answer to each, so they differ by at most the one in flight.
        CHECK(second.progress >= first.progress);
        CHECK(second.progress <= first.progress + 1);
        CHECK(first.wake_latency.count() == first.progress);
        CHECK(second.wake_latency.count() == second.progress);
    }
}

TEST_CASE("workload: fork_churn reaps every child it forks", "[guest][workload]") {
    const auto r = run_workload(one_group({.name = "forks", .kind = ForkChurn{}, .count = 2}));
    check_everyone_progressed(r);
    errno = 0;
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);  // no child left, not even a zombie
    CHECK(errno == ECHILD);
}

TEST_CASE("workload: several groups start together and are reported in order", "[guest][workload]") {
    Workload w;
    w.duration = 100ms;
    w.stop_grace = 20s;
    w.groups = {{.name = "a", .kind = Spin{}, .count = 1, .cpus = {0, 1}, .placement = CpuPlacement::whole_set},
                {.name = "b", .kind = Yield{}, .count = 3}};
    const auto r = run_workload(w);
    check_everyone_progressed(r);
    REQUIRE(r.groups.size() == 2);
    CHECK(r.groups[0].name == "a");
    CHECK(r.groups[1].name == "b");
    CHECK(r.groups[1].workers == 3);
    CHECK(r.workers[3].group == "b");
    CHECK(r.workers[3].index == 2);
    CHECK(r.duration >= 100ms);
    CHECK(r.starvation_window == 50ms);  // min(1 s, duration / 2)
}

TEST_CASE("workload: a bad spec is refused before anything runs", "[guest][workload]") {
    auto bad = [](WorkerGroup g) {
        return one_group(std::move(g));
    };
    CHECK_THROWS_AS(run_workload(bad({.name = "odd", .kind = PipePingpong{}, .count = 3})), std::invalid_argument);
    CHECK_THROWS_AS(run_workload(bad({.name = "a.b", .kind = Spin{}})), std::invalid_argument);
    CHECK_THROWS_AS(run_workload(bad({.name = "", .kind = Spin{}})), std::invalid_argument);
    CHECK_THROWS_AS(run_workload(bad({.name = "none", .kind = Spin{}, .count = 0})), std::invalid_argument);
    CHECK_THROWS_AS(run_workload(bad({.name = "cpu", .kind = Spin{}, .cpus = {1024}})), std::invalid_argument);
    CHECK_THROWS_AS(run_workload(bad({.name = "long", .kind = SleepWake{.sleep = 1s}})), std::invalid_argument);
    // As long as the starvation window: every worker would look starved.
    Workload starving = one_group({.name = "slow", .kind = SleepWake{.sleep = 1000ms}}, 10s);
    CHECK_THROWS_WITH(run_workload(starving), Catch::Matchers::Contains("not less than the starvation window"));
    starving.starvation_window = 2s;
    starving.stop_grace = 1s;  // half of it is below the sleep: it could not stop in time
    CHECK_THROWS_WITH(run_workload(starving), Catch::Matchers::Contains("more than half the stop grace"));
    Workload twice = one_group({.name = "x"});
    twice.groups.push_back({.name = "x"});
    CHECK_THROWS_WITH(run_workload(twice), "workload: group name 'x' used twice");
}

TEST_CASE("workload: a worker that cannot be pinned fails the run with its name", "[guest][workload]") {
    // CPU 1000 exists in no affinity mask here: sched_setaffinity refuses it.
    CHECK_THROWS_WITH(run_workload(one_group({.name = "far", .kind = Spin{}, .count = 1, .cpus = {1000}})),
                      Catch::Matchers::StartsWith("workload: group 'far' worker 0: cannot set its affinity to CPUs 1000"));
}

TEST_CASE("workload: a first unit that outlasts the deadline is finished, not cut", "[guest][workload]") {
    // The only sleep ends at or after the deadline: the stop request comes
    // while every worker is inside its first unit.
    auto late = one_group({.name = "late", .kind = SleepWake{.sleep = 50ms}, .count = 2}, 50ms);
    late.starvation_window = 200ms;  // longer than the sleep, which validation requires
    const auto r = run_workload(late);
    for (const auto& w : r.workers) {
        CHECK(w.progress >= 1);
        CHECK_FALSE(w.stuck);
        CHECK(w.wake_latency.count() == w.progress);
    }
}
