#include "ktstr/guest/workload_result.hpp"

#include <algorithm>
#include <utility>

#include "ktstr/guest/senders.hpp"

namespace ktstr::guest {
namespace {

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }
double us(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e3; }

template <typename T>
void add_optional(std::optional<T>& sum, const std::optional<T>& v) {
    if (v)
        sum = sum ? *sum + *v : *v;
}

class MetricList {
public:
    explicit MetricList(std::vector<Metric>& out) : out_(out) {}
    void add(std::string name, double value, std::string_view unit) {
        out_.push_back({std::move(name), value, std::string(unit)});
    }

private:
    std::vector<Metric>& out_;
};

void add_latency(MetricList& m, const std::string& prefix, const LatencyHistogram& h, bool all) {
    m.add(prefix + "wake_count", static_cast<double>(h.count()), "count");
    if (h.count() == 0)
        return;  // no percentile of nothing
    if (all)
        m.add(prefix + "wake_latency_p50_us", us(h.percentile(0.50)), "us");
    m.add(prefix + "wake_latency_p99_us", us(h.percentile(0.99)), "us");
    if (all)
        m.add(prefix + "wake_latency_max_us", us(h.max()), "us");
}

}  // namespace

GroupResult aggregate_group(std::string name, std::string kind, std::string progress_unit,
                            std::span<const WorkerResult> workers) {
    GroupResult g;
    g.name = std::move(name);
    g.kind = std::move(kind);
    g.progress_unit = std::move(progress_unit);
    g.workers = workers.size();
    g.progress_min = workers.empty() ? 0 : UINT64_MAX;
    for (const auto& w : workers) {
        g.progress_total += w.progress;
        g.progress_min = std::min(g.progress_min, w.progress);
        g.progress_max = std::max(g.progress_max, w.progress);
        g.measures_wakes = g.measures_wakes || w.measures_wakes;
        g.wake_latency.merge(w.wake_latency);
        g.migrations += w.migrations;
        g.cpus.insert(g.cpus.end(), w.cpus.begin(), w.cpus.end());
        add_optional(g.run_delay, w.stats.run_delay);
        add_optional(g.voluntary_switches, w.stats.voluntary_switches);
        add_optional(g.involuntary_switches, w.stats.involuntary_switches);
        g.starved_workers += w.starvation.starved ? 1 : 0;
        g.stuck_workers += w.stuck ? 1 : 0;
        g.longest_stall = std::max(g.longest_stall, w.starvation.longest_stall);
    }
    std::sort(g.cpus.begin(), g.cpus.end());
    g.cpus.erase(std::unique(g.cpus.begin(), g.cpus.end()), g.cpus.end());
    return g;
}

std::size_t WorkloadResult::starved_workers() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(workers.begin(), workers.end(), [](const WorkerResult& w) { return w.starvation.starved; }));
}

std::size_t WorkloadResult::stuck_workers() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(workers.begin(), workers.end(), [](const WorkerResult& w) { return w.stuck; }));
}

PayloadMetrics WorkloadResult::to_payload_metrics(std::string payload_name, std::uint64_t payload_index,
                                                  std::size_t max_worker_metrics) const {
    PayloadMetrics p;
    p.payload_index = payload_index;
    p.payload = std::move(payload_name);
    MetricList m(p.metrics);
    const std::size_t per_worker = std::min(max_worker_metrics, workers.size());
    m.add("workload.duration_ms", ms(duration), "ms");
    m.add("workload.workers", static_cast<double>(workers.size()), "count");
    m.add("workload.starvation_window_ms", ms(starvation_window), "ms");
    m.add("workload.starved_workers", static_cast<double>(starved_workers()), "count");
    m.add("workload.stuck_workers", static_cast<double>(stuck_workers()), "count");
    m.add("workload.worker_metrics_omitted", static_cast<double>(workers.size() - per_worker), "count");

    const double seconds = static_cast<double>(duration.count()) / 1e9;
    for (const auto& g : groups) {
        const std::string pre = "group." + g.name + ".";
        m.add(pre + "workers", static_cast<double>(g.workers), "count");
        m.add(pre + "progress_total", static_cast<double>(g.progress_total), g.progress_unit);
        m.add(pre + "progress_min", static_cast<double>(g.progress_min), g.progress_unit);
        m.add(pre + "progress_max", static_cast<double>(g.progress_max), g.progress_unit);
        if (seconds > 0)
            m.add(pre + "progress_per_s", static_cast<double>(g.progress_total) / seconds, g.progress_unit + "/s");
        if (g.measures_wakes)
            add_latency(m, pre, g.wake_latency, true);
        m.add(pre + "migrations", static_cast<double>(g.migrations), "count");
        m.add(pre + "cpus_used", static_cast<double>(g.cpus.size()), "count");
        if (g.run_delay)
            m.add(pre + "run_delay_ms", ms(*g.run_delay), "ms");
        if (g.voluntary_switches)
            m.add(pre + "voluntary_switches", static_cast<double>(*g.voluntary_switches), "count");
        if (g.involuntary_switches)
            m.add(pre + "involuntary_switches", static_cast<double>(*g.involuntary_switches), "count");
        m.add(pre + "starved_workers", static_cast<double>(g.starved_workers), "count");
        m.add(pre + "stuck_workers", static_cast<double>(g.stuck_workers), "count");
        m.add(pre + "longest_stall_ms", ms(g.longest_stall), "ms");
    }
    for (std::size_t i = 0; i < per_worker; ++i) {
        const auto& w = workers[i];
        const std::string pre = "worker." + w.group + "." + std::to_string(w.index) + ".";
        auto g = std::find_if(groups.begin(), groups.end(), [&](const GroupResult& x) { return x.name == w.group; });
        m.add(pre + "progress", static_cast<double>(w.progress), g == groups.end() ? "count" : g->progress_unit);
        if (w.measures_wakes && w.wake_latency.count() > 0)
            m.add(pre + "wake_latency_p99_us", us(w.wake_latency.percentile(0.99)), "us");
        m.add(pre + "migrations", static_cast<double>(w.migrations), "count");
        if (w.stats.run_delay)
            m.add(pre + "run_delay_ms", ms(*w.stats.run_delay), "ms");
        m.add(pre + "longest_stall_ms", ms(w.starvation.longest_stall), "ms");
        m.add(pre + "starved", w.starvation.starved ? 1 : 0, "bool");
        m.add(pre + "stuck", w.stuck ? 1 : 0, "bool");
    }
    return p;
}

bool WorkloadResult::send(std::string payload_name, std::uint64_t payload_index) const {
    return send_payload_metrics(to_payload_metrics(std::move(payload_name), payload_index));
}

}  // namespace ktstr::guest
