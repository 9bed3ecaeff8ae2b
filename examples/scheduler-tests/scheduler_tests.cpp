// Scheduler tests a sched_ext developer can copy: each case boots a VM
// with the topology and the scheduler its spec names; its body runs inside.
#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <ktstr/catch2.hpp>
#include <ktstr/guest/workload.hpp>

using namespace std::chrono_literals;
namespace kg = ktstr::guest;

namespace {

std::string read_line(const std::string& path) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    return line;
}

}  // namespace

// Two LLCs of one core each; a ping-pong pair whose partners sit on
// different LLCs (every wake-up crosses them) and one free to migrate,
// under scx_simple. ktstr::test::run_workload fails the case when any
// worker starved; the scheduler being ejected fails it on the host.
KTSTR_TEST_CASE("scx_simple keeps ping-pong pairs on two LLCs progressing", "[scx_simple][wakeup]",
                {.kernel = "sched-ext", .topology = "1,2,1,1", .scheduler = "scx_simple"}) {
    // The guest sees the two LLCs the spec asked for.
    KTSTR_REQUIRE(read_line("/sys/devices/system/cpu/cpu0/cache/index3/shared_cpu_list") == "0");
    KTSTR_REQUIRE(read_line("/sys/devices/system/cpu/cpu1/cache/index3/shared_cpu_list") == "1");

    kg::Workload w;
    w.duration = 3s;
    w.groups = {{.name = "cross_llc", .kind = kg::PipePingpong{}, .count = 2, .cpus = {0, 1}},
                {.name = "free", .kind = kg::PipePingpong{}, .count = 2}};
    const auto result = ktstr::test::run_workload(w, "pingpong");
    for (const auto& g : result.groups) {
        KTSTR_CHECK_MESSAGE(g.progress_min > 0, g.name + ": a worker made no round trip");
        KTSTR_CHECK(g.wake_latency.count() > 0);
    }
    KTSTR_CHECK(read_line("/sys/kernel/sched_ext/root/ops") == "simple");
}

// The topology a NUMA-aware scheduler sees: two nodes, one LLC each, two
// cores of two threads per LLC; one spinner per node, pinned, must keep
// its CPU's progress under scx_simple.
KTSTR_TEST_CASE("a 2-node guest shows its nodes, LLCs and SMT siblings", "[topology]",
                {.kernel = "sched-ext", .topology = "2,1,1,2", .scheduler = "scx_simple"}) {
    KTSTR_CHECK(read_line("/sys/devices/system/node/node0/cpulist") == "0-1");
    KTSTR_CHECK(read_line("/sys/devices/system/node/node1/cpulist") == "2-3");
    KTSTR_CHECK(read_line("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list") == "0-1");
    KTSTR_CHECK(read_line("/sys/devices/system/cpu/cpu3/topology/thread_siblings_list") == "2-3");
    KTSTR_CHECK(read_line("/sys/devices/system/cpu/cpu2/cache/index3/shared_cpu_list") == "2-3");

    kg::Workload w;
    w.duration = 2s;
    w.groups = {{.name = "node0", .kind = kg::Spin{}, .count = 1, .cpus = {0}},
                {.name = "node1", .kind = kg::Spin{}, .count = 1, .cpus = {2}}};
    const auto result = ktstr::test::run_workload(w, "spinners");
    for (const auto& worker : result.workers)
        KTSTR_CHECK_MESSAGE(worker.cpus.size() == 1, worker.group + ": a pinned spinner ran on another CPU");
}
