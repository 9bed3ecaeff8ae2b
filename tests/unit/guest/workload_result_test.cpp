// The result's aggregates and its PMET, on synthetic worker results.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "guest_sandbox.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/structured.hpp"
#include "ktstr/guest/workload.hpp"
#include "ktstr/guest/workload_result.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;

namespace {

WorkerResult worker(std::string group, std::size_t index, std::uint64_t progress) {
    WorkerResult w;
    w.group = std::move(group);
    w.index = index;
    w.progress = progress;
    w.samples = {{0ns, 0}, {10ms, progress}};
    w.cpus = {static_cast<int>(index % 2)};
    return w;
}

const Metric* find(const PayloadMetrics& p, const std::string& name) {
    auto it = std::find_if(p.metrics.begin(), p.metrics.end(), [&](const Metric& m) { return m.name == name; });
    return it == p.metrics.end() ? nullptr : &*it;
}

WorkloadResult sample_result() {
    WorkloadResult r;
    r.duration = 2s;
    r.starvation_window = 1s;
    auto a0 = worker("pp", 0, 100);
    auto a1 = worker("pp", 1, 101);
    for (auto* w : {&a0, &a1}) {
        w->measures_wakes = true;
        for (int i = 1; i <= 100; ++i)
            w->wake_latency.record(std::chrono::nanoseconds(i * 1000));
    }
    a0.stats.run_delay = 3ms;
    a0.migrations = 4;
    a1.starvation = {true, 1200ms, 300ms};
    auto b0 = worker("hog", 0, 4096);
    b0.stuck = true;
    r.workers = {a0, a1, b0};
    r.groups.push_back(aggregate_group("pp", "pipe_pingpong", "round_trips", std::span(r.workers).first(2)));
    r.groups.push_back(aggregate_group("hog", "spin", "iterations", std::span(r.workers).subspan(2)));
    return r;
}

}  // namespace

TEST_CASE("workload result: group aggregates", "[guest][workload]") {
    const auto r = sample_result();
    const auto& g = r.groups[0];
    CHECK(g.workers == 2);
    CHECK(g.progress_total == 201);
    CHECK(g.progress_min == 100);
    CHECK(g.progress_max == 101);
    CHECK(g.wake_latency.count() == 200);
    CHECK(g.migrations == 4);
    CHECK(g.cpus == std::vector<int>{0, 1});
    CHECK(g.run_delay == std::optional<std::chrono::nanoseconds>(3ms));  // only worker 0 had one
    CHECK(g.starved_workers == 1);
    CHECK(g.longest_stall == 1200ms);
    CHECK_FALSE(r.groups[1].run_delay);  // nobody had one: absent, not 0
    CHECK(r.groups[1].stuck_workers == 1);
    CHECK(r.starved_workers() == 1);
    CHECK(r.stuck_workers() == 1);
}

TEST_CASE("workload result: metric names and values", "[guest][workload]") {
    const auto p = sample_result().to_payload_metrics("sched-test", 5);
    CHECK(p.payload == "sched-test");
    CHECK(p.payload_index == 5);
    auto value = [&](const std::string& name) {
        const Metric* m = find(p, name);
        INFO(name);
        REQUIRE(m != nullptr);
        return m->value;
    };
    CHECK(value("workload.workers") == 3);
    CHECK(value("workload.duration_ms") == 2000);
    CHECK(value("workload.starved_workers") == 1);
    CHECK(value("workload.stuck_workers") == 1);
    CHECK(value("group.pp.progress_total") == 201);
    CHECK(find(p, "group.pp.progress_total")->unit == "round_trips");
    CHECK(value("group.pp.progress_per_s") == Approx(100.5));
    CHECK(value("group.pp.wake_count") == 200);
    CHECK(value("group.pp.wake_latency_p50_us") == Approx(50.0).epsilon(1.0 / 64));
    CHECK(value("group.pp.wake_latency_p99_us") == Approx(99.0).epsilon(1.0 / 64));
    CHECK(value("group.pp.wake_latency_max_us") == 100.0);
    CHECK(value("group.pp.migrations") == 4);
    CHECK(value("group.pp.run_delay_ms") == 3.0);
    CHECK(value("group.pp.starved_workers") == 1);
    CHECK(value("group.pp.longest_stall_ms") == 1200.0);
    CHECK(value("group.hog.stuck_workers") == 1);
    CHECK(value("worker.pp.1.progress") == 101);
    CHECK(find(p, "worker.pp.1.progress")->unit == "round_trips");
    CHECK(value("worker.pp.1.starved") == 1);
    CHECK(value("worker.hog.0.stuck") == 1);
    CHECK(value("worker.pp.0.run_delay_ms") == 3.0);
    // Absent, not zero: no run delay for the spinners, no wakes measured by spinning.
    CHECK(find(p, "group.hog.run_delay_ms") == nullptr);
    CHECK(find(p, "worker.pp.1.run_delay_ms") == nullptr);
    CHECK(find(p, "group.hog.wake_count") == nullptr);
    CHECK(find(p, "group.hog.wake_latency_p99_us") == nullptr);
}

TEST_CASE("workload result: per-worker metrics are bounded", "[guest][workload]") {
    WorkloadResult r;
    r.duration = 1s;
    r.starvation_window = 500ms;
    for (std::size_t i = 0; i < 100; ++i)
        r.workers.push_back(worker("g", i, i + 1));
    r.groups.push_back(aggregate_group("g", "spin", "iterations", r.workers));
    const auto p = r.to_payload_metrics("w", 0, 10);
    CHECK(find(p, "worker.g.9.progress") != nullptr);
    CHECK(find(p, "worker.g.10.progress") == nullptr);
    REQUIRE(find(p, "workload.worker_metrics_omitted") != nullptr);
    CHECK(find(p, "workload.worker_metrics_omitted")->value == 90);
    CHECK(std::count_if(p.metrics.begin(), p.metrics.end(),
                        [](const Metric& m) { return m.name.rfind("worker.", 0) == 0; }) <= 10 * 7);
}

TEST_CASE("workload result: the PMET round-trips through the JSON encoding", "[guest][workload]") {
    const auto p = sample_result().to_payload_metrics("round-trip", 2);
    const auto decoded = decode_payload_metrics(encode_json(p));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == p);
}

TEST_CASE("workload result: send writes that PMET on the bulk port", "[guest][workload]") {
    ktstr::test::GuestSandbox sb;
    sb.attach_port();
    const auto r = sample_result();
    REQUIRE(r.send("sent", 9));
    const auto frames = ktstr::test::read_frames(sb.host(), 1);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].msg_type() == to_u32(MsgType::PayloadMetrics));
    const auto decoded = decode_payload_metrics(frames[0].payload);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == r.to_payload_metrics("sent", 9));
}

TEST_CASE("workload result: the largest workload's PMET fits the host's 1024 metrics per payload",
          "[guest][workload]") {
    WorkloadResult r;
    r.duration = 1s;
    r.starvation_window = 500ms;
    const std::size_t per_group = Workload::max_workers / Workload::max_groups;
    for (std::size_t g = 0; g < Workload::max_groups; ++g) {
        const auto name = "group" + std::to_string(g);
        const auto first = r.workers.size();
        for (std::size_t i = 0; i < per_group; ++i) {
            auto w = worker(name, i, 1);
            w.measures_wakes = true;  // every optional metric present
            w.wake_latency.record(1us);
            w.stats = {1ms, 1, 1};
            r.workers.push_back(std::move(w));
        }
        r.groups.push_back(
            aggregate_group(name, "pipe_pingpong", "round_trips", std::span(r.workers).subspan(first, per_group)));
    }
    const auto p = r.to_payload_metrics("largest");
    CHECK(p.metrics.size() <= 1024);
    CHECK(find(p, "workload.worker_metrics_omitted")->value == Workload::max_workers - 64);
}
