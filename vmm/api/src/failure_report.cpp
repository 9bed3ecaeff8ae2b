// The failure report: what a test author reads first when a VM test did
// not pass, as text and as JSON (ktstr/vmm/vm.hpp).
#include <algorithm>
#include <deque>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "ktstr/host/terminal_text.hpp"
#include "ktstr/vmm/vm.hpp"

namespace ktstr::vmm {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

constexpr std::size_t dump_lines = 60;
constexpr std::size_t log_tail_lines = 40;
constexpr std::size_t max_line_bytes = 512;
// A file is read only this far from its end (or its start): it was
// written by the guest and may be as large as its cap.
constexpr std::uintmax_t max_read_bytes = 1u << 20;

// The console's lines end in "\r\n".
std::string without_cr(std::string line) {
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

std::vector<std::string> first_lines(const fs::path& path, std::size_t n) {
    // One read of at most max_read_bytes, then split: a single line may be
    // the whole file.
    std::ifstream f(path, std::ios::binary);
    std::string head(static_cast<std::size_t>(max_read_bytes), '\0');
    f.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(std::max<std::streamsize>(f.gcount(), 0)));
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos < head.size() && out.size() < n;) {
        const auto nl = head.find('\n', pos);
        const auto end = nl == std::string::npos ? head.size() : nl;
        out.push_back(without_cr(head.substr(pos, std::min(end - pos, max_line_bytes))));
        pos = end + 1;
    }
    return out;
}

std::vector<std::string> last_lines(const fs::path& path, std::size_t n) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return {};
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::uintmax_t>(std::max<std::streamoff>(f.tellg(), 0));
    const auto from = size > max_read_bytes ? size - max_read_bytes : 0;
    f.seekg(static_cast<std::streamoff>(from));
    std::deque<std::string> lines;
    std::string line;
    bool first = from != 0;  // a cut first line is not a line
    while (std::getline(f, line)) {
        if (first) {
            first = false;
            continue;
        }
        lines.push_back(without_cr(line.substr(0, max_line_bytes)));
        if (lines.size() > n)
            lines.pop_front();
    }
    return {lines.begin(), lines.end()};
}

std::vector<std::string> failed_checks(const VmResult& r) {
    std::vector<std::string> out;
    for (const auto& t : r.checks)
        if (!t.passed)
            for (const auto& d : t.details)
                out.push_back(fmt::format("[{}] {}", d.kind, d.message));
    return out;
}

std::string scheduler_line(const SchedulerResult& s) {
    std::string line = fmt::format("{}: {}", s.name, s.fate);
    if (s.kind)
        line += fmt::format(" ({}, kind {})", s.kind_name, *s.kind);
    if (!s.reason.empty())
        line += ": " + s.reason;
    return line;
}

// Guest text, escaped, one "| " line each.
void guest_block(std::string& out, const std::vector<std::string>& lines) {
    for (const auto& l : lines)
        out += "  | " + host::terminal_line(l, max_line_bytes) + "\n";
}

}  // namespace

nlohmann::ordered_json failure_report_json(const VmResult& r) {
    ojson j;
    j["verdict"] = verdict_name(r.verdict);
    j["summary"] = r.summary;
    j["exit_status"] = r.exit_status;
    j["failed_checks"] = failed_checks(r);
    if (r.scheduler) {
        const auto& s = *r.scheduler;
        j["scheduler"] = {{"name", s.name},     {"fate", s.fate}, {"kind", s.kind ? ojson(*s.kind) : ojson(nullptr)},
                          {"kind_name", s.kind_name}, {"reason", s.reason}, {"log", s.log.string()},
                          {"log_tail", s.log.empty() ? std::vector<std::string>{} : last_lines(s.log, 20)},
                          {"dump", s.dump.string()}};
        j["dump_head"] = s.dump.empty() ? std::vector<std::string>{} : first_lines(s.dump, dump_lines);
    } else {
        j["scheduler"] = nullptr;
        j["dump_head"] = ojson::array();
    }
    ojson metrics = ojson::array();
    for (const auto& pm : r.metrics) {
        ojson ms = ojson::array();
        for (const auto& m : pm.metrics)
            ms.push_back({{"name", m.name}, {"value", m.value}, {"unit", m.unit}});
        metrics.push_back({{"payload", pm.payload}, {"metrics", std::move(ms)}});
    }
    j["metrics"] = std::move(metrics);
    j["kernel_log_tail"] = r.console_log.empty() ? std::vector<std::string>{} : last_lines(r.console_log, log_tail_lines);
    j["files"] = {{"output_dir", r.output_dir.string()},
                  {"result", r.result_file.string()},
                  {"console_log", r.console_log.string()}};
    return j;
}

std::string failure_report(const VmResult& r) {
    // The summary starts with the verdict's name already ("fail: ...").
    std::string out = host::terminal_line(r.summary, 1024) + "\n";
    if (const auto checks = failed_checks(r); !checks.empty()) {
        out += "\n== failed checks ==\n";
        guest_block(out, checks);
    }
    if (r.scheduler) {
        const auto& s = *r.scheduler;
        out += "\n== scheduler ==\n";
        guest_block(out, {scheduler_line(s)});
        if (!s.log.empty()) {
            out += fmt::format("  log: {} (last lines)\n", s.log.string());
            guest_block(out, last_lines(s.log, 20));
        }
    }
    if (!r.metrics.empty()) {
        out += "\n== workload metrics ==\n";
        // Names and units are the guest's: behind "| " like its other text.
        for (const auto& pm : r.metrics) {
            out += fmt::format("  | {}:\n", host::terminal_line(pm.payload, 128));
            std::size_t width = 0;
            for (const auto& m : pm.metrics)
                width = std::max(width, std::min<std::size_t>(m.name.size(), 60));
            for (const auto& m : pm.metrics)
                out += fmt::format("  |   {:<{}}  {:>14.3f} {}\n", host::terminal_line(m.name, 60), width, m.value,
                                   host::terminal_line(m.unit, 16));
        }
    }
    if (r.scheduler && !r.scheduler->dump.empty()) {
        out += fmt::format("\n== sched_ext dump ({}, first lines) ==\n", r.scheduler->dump.string());
        guest_block(out, first_lines(r.scheduler->dump, dump_lines));
    }
    if (!r.console_log.empty()) {
        if (auto tail = last_lines(r.console_log, log_tail_lines); !tail.empty()) {
            out += fmt::format("\n== kernel log ({}, last lines) ==\n", r.console_log.string());
            guest_block(out, tail);
        }
    }
    out += "\n== files ==\n";
    std::error_code ec;
    if (!r.output_dir.empty() && fs::is_directory(r.output_dir, ec) && !fs::is_empty(r.output_dir, ec))
        out += fmt::format("  output directory: {}\n", r.output_dir.string());
    if (!r.result_file.empty())
        out += fmt::format("  run result: {}\n", r.result_file.string());
    return out;
}

}  // namespace ktstr::vmm
