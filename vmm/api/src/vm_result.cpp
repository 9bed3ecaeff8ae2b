// VmResult from the run result the host wrote, and the verdict.
#include "ktstr/vmm/vm_result.hpp"

#include <fmt/core.h>

#include "emulated_host/emulated_host.hpp"
#include "ktstr/host/terminal_text.hpp"
#include "run/guest_run.hpp"
#include "run/run_verdict.hpp"

namespace ktstr::vmm {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// A field of a given type, or nothing: the JSON came through the guest's
// hands in part, so nothing in it is trusted to be there or well-typed.
template <typename T>
std::optional<T> field(const ojson& j, const char* key) {
    if (!j.is_object())
        return std::nullopt;
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return std::nullopt;
    if constexpr (std::is_same_v<T, std::string>) {
        if (it->is_string())
            return it->template get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
        if (it->is_boolean())
            return it->template get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
        if (it->is_number())
            return it->template get<T>();
    } else {
        if (it->is_number_integer() || it->is_number_unsigned())
            return it->template get<T>();
    }
    return std::nullopt;
}

bool is_skip(const TestResult& t) {
    for (const auto& d : t.details)
        if (d.kind == "skip")
            return true;
    return false;
}

// The first failed check's first detail, for the summary line.
std::string first_failure(const std::vector<TestResult>& checks) {
    for (const auto& t : checks)
        if (!t.passed)
            return t.details.empty() ? std::string("(no detail)") : host::terminal_line(t.details.front().message, 200);
    return {};
}

}  // namespace

std::string_view verdict_name(Verdict v) noexcept {
    switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::skip: return "skip";
    case Verdict::inconclusive: return "inconclusive";
    }
    return "inconclusive";
}

void read_run_result(VmResult& r, const ojson& j) {
    r.run_result = j;
    if (!j.is_object())
        return;
    r.command_exit = field<std::int32_t>(j, "exit_code");
    // Came back through the guest's hands (the emulated host's return
    // stream): escaped like any guest text before it is printed.
    r.status_reason = host::terminal_line(field<std::string>(j, "status_reason").value_or(""), 2048);
    r.frames = field<std::uint64_t>(j, "frames").value_or(0);
    if (auto b = field<double>(j, "boot_time_ms"))
        r.boot_ms = *b;
    r.run_ms = field<double>(j, "run_time_ms").value_or(0);
    if (auto it = j.find("message_counts"); it != j.end() && it->is_object())
        for (const auto& [tag, n] : it->items())
            if (n.is_number_unsigned() || n.is_number_integer())
                r.message_counts[tag] = n.get<std::uint64_t>();
    if (auto it = j.find("tests"); it != j.end() && it->is_array())
        for (const auto& t : *it) {
            // The host wrote these from decoded TEST records; the wire
            // decoder checks their shape again.
            const std::string text = t.dump();
            if (auto tr = decode_test_result(as_bytes(text)))
                r.checks.push_back(std::move(*tr));
        }
    r.checks_failed = field<std::uint64_t>(j, "tests_failed").value_or(0);
    if (auto it = j.find("payload_metrics"); it != j.end() && it->is_array())
        for (const auto& m : *it) {
            const std::string text = m.dump();
            if (auto pm = decode_payload_metrics(as_bytes(text)))
                r.metrics.push_back(std::move(*pm));
        }
    if (auto it = j.find("scheduler"); it != j.end() && it->is_object()) {
        const ojson& s = *it;
        SchedulerResult sr;
        sr.name = field<std::string>(s, "name").value_or("");
        sr.fate = field<std::string>(s, "fate").value_or("unknown");
        sr.ops = field<std::string>(s, "ops").value_or("");
        sr.attached_after_ms = field<std::int64_t>(s, "attached_after_ms");
        sr.kind = field<std::int64_t>(s, "kind");
        sr.kind_name = field<std::string>(s, "kind_name").value_or("");
        sr.reason = field<std::string>(s, "reason").value_or("");
        // Where the files are is the host's own knowledge, never the JSON's
        // word: a result that came back through the emulated host's outer
        // guest could name any host file for the report to print.
        if (!r.output_dir.empty()) {
            std::error_code ec;
            if (const auto log = r.output_dir / run::scheduler_log_name; fs::is_regular_file(log, ec))
                sr.log = log;
            if (const auto dump = r.output_dir / run::sched_ext_dump_name; fs::is_regular_file(dump, ec))
                sr.dump = dump;
        }
        r.scheduler = std::move(sr);
    }
}

void decide_verdict(VmResult& r) {
    using namespace run;
    const int st = r.exit_status;
    const auto why = [&](std::string_view fallback) {
        return r.status_reason.empty() ? std::string(fallback) : r.status_reason;
    };
    if (r.run_result.is_null()) {
        r.verdict = Verdict::inconclusive;
        r.summary = fmt::format("inconclusive: no run result came back (exit status {})", st);
        if (st == emulated_host::exit_host_failure || st == emulated_host::exit_timeout) {
            r.emulated_host_failed = true;
            r.summary = fmt::format("inconclusive: the emulated KVM host failed (exit status {})", st);
        }
        return;
    }
    // 242 and 243 are the VMM's only when it gave its reason: a guest
    // command may exit with either number itself.
    if ((st == exit_boot_failure || st == exit_vmm_failure) && !r.status_reason.empty()) {
        r.verdict = Verdict::inconclusive;
        r.summary = fmt::format("inconclusive: {}", why(fmt::format("the VM failed (exit status {})", st)));
        return;
    }
    std::uint64_t failed = 0, skipped = 0;
    for (const auto& t : r.checks) {
        if (!t.passed)
            ++failed;
        else if (is_skip(t))
            ++skipped;
    }
    failed = std::max<std::uint64_t>(failed, r.checks_failed);
    if (st >= exit_timeout) {
        r.verdict = Verdict::fail;
        r.summary = fmt::format("fail: {}", why(fmt::format("exit status {}", st)));
        return;
    }
    if (failed != 0) {
        r.verdict = Verdict::fail;
        r.summary = fmt::format("fail: {} of {} guest check record(s) failed: {}", failed, r.checks.size(),
                                first_failure(r.checks));
        return;
    }
    if (st != 0) {
        r.verdict = Verdict::fail;
        r.summary = fmt::format("fail: the command exited with status {}", st);
        return;
    }
    if (skipped != 0) {
        std::string reason;
        for (const auto& t : r.checks)
            for (const auto& d : t.details)
                if (d.kind == "skip" && reason.empty())
                    reason = host::terminal_line(d.message, 200);
        r.verdict = Verdict::skip;
        r.summary = fmt::format("skip: {}", reason);
        return;
    }
    r.verdict = Verdict::pass;
    r.summary = fmt::format("pass: the command exited 0, {} guest check record(s) passed", r.checks.size());
    if (r.scheduler)
        r.summary += fmt::format(", scheduler {} stayed attached", host::terminal_line(r.scheduler->name, 64));
}

}  // namespace ktstr::vmm
