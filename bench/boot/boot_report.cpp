#include "boot_report.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include <fmt/core.h>

namespace ktstr::bench::boot {
namespace {

std::string seconds(const std::optional<double>& v) {
    return v ? fmt::format("{:.3f}", *v) : std::string("-");
}

struct Spread {
    double median = 0, min = 0, max = 0;
    std::size_t n = 0;
};

Spread spread(std::vector<double> v) {
    Spread s;
    s.n = v.size();
    if (v.empty())
        return s;
    std::sort(v.begin(), v.end());
    s.min = v.front();
    s.max = v.back();
    s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    return s;
}

template <class Get>
Spread spread_of(const std::vector<BootSample>& samples, Get get) {
    std::vector<double> v;
    for (const auto& s : samples)
        if (auto x = get(s))
            v.push_back(*x);
    return spread(v);
}

}  // namespace

std::string describe(const BootSample& s) {
    std::string mbps = "-";
    if (s.first_stdout && s.last_stdout && *s.last_stdout > *s.first_stdout)
        mbps = fmt::format("{:.1f}", static_cast<double>(s.stdout_bytes) / 1e6 / (*s.last_stdout - *s.first_stdout));
    std::string timeline;
    if (s.vcpus_started)
        timeline = fmt::format(" vcpus_started={} init_started={} command_started={}", seconds(s.vcpus_started),
                               seconds(s.init_started), seconds(s.command_started));
    return fmt::format("first_port={} first_line={} exit={:.3f} status={} guest_exit={} stdout_bytes={} "
                       "stdout_first={} stdout_last={} stdout_MBps={} max_rss_kib={} own_peak_kib={}{}{}",
                       seconds(s.first_port), seconds(s.first_line), s.exit, s.status,
                       s.guest_exit ? std::to_string(*s.guest_exit) : "-", s.stdout_bytes, seconds(s.first_stdout),
                       seconds(s.last_stdout), mbps, s.max_rss_kib, s.own_peak_kib, timeline,
                       s.timed_out ? " TIMED-OUT" : "");
}

BootSummary summarise(const std::string& name, std::span<const BootSample> samples) {
    std::vector<BootSample> v;
    for (const auto& s : samples)
        if (s.worked())
            v.push_back(s);
    const auto first = spread_of(v, [](const BootSample& s) { return s.first_line; });
    const auto port = spread_of(v, [](const BootSample& s) { return s.first_port; });
    const auto exit = spread_of(v, [](const BootSample& s) { return std::optional<double>(s.exit); });
    const auto rss = spread_of(
        v, [](const BootSample& s) { return std::optional<double>(static_cast<double>(s.max_rss_kib) / 1024.0); });
    const auto own = spread_of(
        v, [](const BootSample& s) { return std::optional<double>(static_cast<double>(s.own_peak_kib) / 1024.0); });
    BootSummary out;
    out.line = fmt::format("summary {} n={} failed={} first_line median={:.3f} min={:.3f} max={:.3f}; "
                           "first_port median={:.3f} (n={}); exit median={:.3f} min={:.3f} max={:.3f}; "
                           "max_rss_mib median={:.1f} min={:.1f} max={:.1f}; "
                           "own_peak_mib median={:.1f} min={:.1f} max={:.1f}",
                           name, v.size(), samples.size() - v.size(), first.median, first.min, first.max,
                           port.median, port.n, exit.median, exit.min, exit.max, rss.median, rss.min, rss.max,
                           own.median, own.min, own.max);
    // Where ktstr-vmm's boots went (its run result's timeline): the VMM's
    // setup to the vCPUs' start, the kernel to ktstr-init's boot mark,
    // init to the command's start, the command to its first line.
    auto phase = [&](auto from, auto to) {
        return spread_of(v, [&](const BootSample& s) -> std::optional<double> {
            const std::optional<double> a = from(s), b = to(s);
            if (!a || !b)
                return std::nullopt;
            return (*b - *a) * 1000.0;
        });
    };
    auto zero = [](const BootSample&) { return std::optional<double>(0.0); };
    auto vcpus = [](const BootSample& s) { return s.vcpus_started; };
    auto init = [](const BootSample& s) { return s.init_started; };
    auto command = [](const BootSample& s) { return s.command_started; };
    auto line = [](const BootSample& s) { return s.first_line; };
    const auto setup = phase(zero, vcpus), kernel = phase(vcpus, init), init_ms = phase(init, command),
               to_line = phase(command, line);
    if (setup.n != 0)
        out.line += fmt::format("; phases_ms median setup={:.0f} kernel={:.0f} (n={}) init={:.0f} "
                                "command_to_line={:.0f}",
                                setup.median, kernel.median, kernel.n, init_ms.median, to_line.median);
    out.first_line_median = first.median;
    out.exit_median = exit.median;
    return out;
}

}  // namespace ktstr::bench::boot
