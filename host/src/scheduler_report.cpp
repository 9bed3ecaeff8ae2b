#include "ktstr/host/scheduler_report.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>

#include "ktstr/common/scx_exit_kind.hpp"
#include "ktstr/host/terminal_text.hpp"
#include "optional_json.hpp"

namespace ktstr::host {
namespace {

using ojson = nlohmann::ordered_json;

// How much of the guest's free text goes into the one line.
constexpr std::size_t max_text_in_line = 512;

std::string seconds(std::uint64_t ms) {
    char b[48];
    std::snprintf(b, sizeof b, "%.1f s", static_cast<double>(ms) / 1000.0);
    return b;
}

std::string signal_text(int sig) {
    const char* abbrev = (sig > 0 && sig < NSIG) ? sigabbrev_np(sig) : nullptr;
    return "signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "");
}

// "exited with status 1" / "was killed by signal 9 (SIGKILL)".
std::string how_it_ended(const SchedulerFate& f) {
    if (f.signal)
        return "was killed by " + signal_text(*f.signal);
    if (f.status)
        return "exited with status " + std::to_string(*f.status);
    return "exited";
}

// The last non-blank line of a multi-line text (the rest is in the log).
std::string_view last_line(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.remove_suffix(1);
    const auto nl = text.rfind('\n');
    return nl == std::string_view::npos ? text : text.substr(nl + 1);
}

}  // namespace

std::string_view outcome_name(SchedulerOutcome o) noexcept {
    switch (o) {
    case SchedulerOutcome::attached_at_end: return "attached at end";
    case SchedulerOutcome::ejected: return "ejected";
    case SchedulerOutcome::exited: return "exited";
    case SchedulerOutcome::never_attached: return "never attached";
    case SchedulerOutcome::unknown: break;
    }
    return "unknown";
}

SchedulerReport report_scheduler(const SchedulerRecords& records, SchedulerRequest request) {
    SchedulerReport r;
    r.request = std::move(request);
    r.attached = records.attached;
    r.end = records.end;
    if (r.end) {
        switch (r.end->fate) {
        case SchedulerFate::Kind::ejected: r.outcome = SchedulerOutcome::ejected; break;
        case SchedulerFate::Kind::exited: r.outcome = SchedulerOutcome::exited; break;
        case SchedulerFate::Kind::never_attached: r.outcome = SchedulerOutcome::never_attached; break;
        case SchedulerFate::Kind::attached: break;  // the recorder never keeps one as the end
        }
    } else if (r.attached) {
        r.outcome = SchedulerOutcome::attached_at_end;
    }
    return r;
}

std::string SchedulerReport::describe() const {
    if (!failed())
        return {};
    const auto& f = *end;
    // The host's own name for it first; the guest's only when the host
    // has none (both are bounded, the guest's escaped).
    const std::string name = !request.name.empty() ? terminal_line(request.name, 128)
                             : !f.program.empty() ? terminal_line(f.program, 128)
                                                  : std::string("(unnamed)");
    const std::string text = f.text.empty() ? "" : terminal_line(f.text, max_text_in_line);
    std::string line = "scheduler " + name;
    switch (outcome) {
    case SchedulerOutcome::ejected: {
        line += " was ejected";
        if (f.after_ms)
            line += " after " + seconds(*f.after_ms);
        const int kind = f.kind.value_or(scx::exit_error);
        line += " (" + std::string(scx::kind_name(kind)) + ", kind " + std::to_string(kind) + ")";
        line += ": " + (text.empty() ? std::string(scx::kind_reason(kind)) : text);
        break;
    }
    case SchedulerOutcome::exited:
        line += " " + how_it_ended(f) + " while the command ran";
        if (f.after_ms)
            line += ", " + seconds(*f.after_ms) + " after attaching";
        line += ", without being ejected";
        break;
    case SchedulerOutcome::never_attached:
        line += " never attached: ";
        if (f.timeout_ms)
            line += "not attached within " + seconds(*f.timeout_ms);
        else
            line += "it " + how_it_ended(f);
        if (!f.state.empty())
            line += " (sched_ext state " + terminal_line(f.state, 64) + ")";
        if (auto last = last_line(f.text); !last.empty())
            line += "; its last output: " + terminal_line(last, max_text_in_line);
        break;
    default: break;
    }
    return line;
}

ojson SchedulerReport::to_json() const {
    // Absent records read as empty ones: every value they would give is null.
    const SchedulerFate a = attached.value_or(SchedulerFate{});
    const SchedulerFate e = end.value_or(SchedulerFate{});
    const std::string& ops = !e.ops.empty() ? e.ops : a.ops;
    const bool ejected = outcome == SchedulerOutcome::ejected;
    const int kind = e.kind.value_or(scx::exit_error);
    ojson j;
    j["name"] = request.name;
    j["args"] = request.args;
    j["ops"] = ops.empty() ? ojson(nullptr) : ojson(ops);
    j["attached_after_ms"] = optional_json(a.attached_ms);
    j["fate"] = outcome_name(outcome);
    j["status"] = optional_json(e.status);
    j["signal"] = optional_json(e.signal);
    j["kind"] = ejected ? ojson(kind) : ojson(nullptr);
    j["kind_name"] = ejected ? ojson(scx::kind_name(kind)) : ojson(nullptr);
    j["reason"] = e.text.empty() ? ojson(nullptr) : ojson(e.text);
    j["after_ms"] = optional_json(e.after_ms);
    j["timeout_ms"] = optional_json(e.timeout_ms);
    j["log"] = log.empty() ? ojson(nullptr) : ojson(log.string());
    j["dump"] = dump.empty() ? ojson(nullptr) : ojson(dump.string());
    return j;
}

}  // namespace ktstr::host
