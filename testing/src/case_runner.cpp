// KTSTR_TEST_CASE's two halves (ktstr/catch2.hpp): on the host, one VM per
// case; in the guest, the body with its checks sent back as a TEST record.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/core.h>

#include "ktstr/catch2.hpp"
#include "ktstr/guest/senders.hpp"
#include "ktstr/guest/workload_run.hpp"
#include "testing_state.hpp"

namespace ktstr::test {
namespace {

namespace fs = std::filesystem;

// Where the test program is inside the guest.
constexpr const char* guest_dir = "/ktstr/tests";
// Beyond this many failed checks per case, only their number is kept.
constexpr std::size_t max_recorded_failures = 64;

std::atomic<bool> guest_mode{false};
std::atomic<int> run_count{0};
std::atomic<int> skip_count{0};

// The failed checks of the guest body that is running.
std::mutex failures_mutex;
std::vector<TestDetail> failures;
std::size_t failures_left_out = 0;
bool body_running = false;

// A test name as an exact Catch2 test spec: the characters its parser
// gives a meaning (alternatives, tags, wildcards, negation, quotes) are
// escaped.
std::string exact_test_spec(const std::string& name) {
    std::string out;
    for (char c : name) {
        if (c == '\\' || c == ',' || c == '[' || c == ']' || c == '*' || c == '~' || c == '"')
            out += '\\';
        out += c;
    }
    return out;
}

// A test name as one directory name.
std::string directory_name(const std::string& name) {
    std::string out;
    for (unsigned char c : name)
        out += (std::isalnum(c) || c == '-' || c == '_' || c == '.') ? static_cast<char>(c) : '_';
    if (out.empty() || out[0] == '.')
        out.insert(0, "case");
    return out.substr(0, 200);
}

fs::path output_root() {
    if (const char* dir = std::getenv("KTSTR_TEST_OUTPUT_DIR"); dir && *dir)
        return fs::absolute(dir);
    return fs::absolute("ktstr-test-output");
}

void run_guest_half(void (*body)()) {
    {
        std::lock_guard lock(failures_mutex);
        failures.clear();
        failures_left_out = 0;
        body_running = true;
    }
    TestResult result;
    bool skipped = false;
    try {
        body();
    } catch (const Skipped& s) {
        skipped = true;
        result.details.push_back({"skip", s.reason});
    } catch (const RequireFailed&) {
        // The failed check is recorded already.
    } catch (const std::exception& e) {
        record_check(false, "the body threw", "", 0, std::string("the body threw: ") + e.what());
    } catch (...) {
        record_check(false, "the body threw", "", 0, "the body threw an exception that is not a std::exception");
    }
    {
        std::lock_guard lock(failures_mutex);
        body_running = false;
        result.passed = failures.empty();
        for (auto& f : failures)
            result.details.push_back(std::move(f));
        if (failures_left_out != 0)
            result.details.push_back({"check", fmt::format("{} more failed checks", failures_left_out)});
    }
    if (!guest::send_test_result(result))
        std::fprintf(stderr, "ktstr: could not send the case's TEST record to the host\n");
    if (skipped) {
        ++skip_count;
        return;
    }
    if (!result.passed)
        FAIL_CHECK(fmt::format("{} KTSTR check(s) failed", result.details.size()));
}

void run_host_half(const char* name, vmm::VmSpec spec) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec)
        FAIL("ktstr: cannot find this test program (/proc/self/exe): " << ec.message());
    const std::string guest_self = (fs::path(guest_dir) / self.filename()).string();
    spec.includes.push_back(self.string() + ":" + guest_self);
    spec.command = {guest_self, "--ktstr-guest", exact_test_spec(name)};
    if (spec.output_dir.empty()) {
        const fs::path dir = output_root() / directory_name(name);
        // A case's directory holds this run's files only.
        fs::remove_all(dir, ec);
        fs::create_directories(dir, ec);
        if (ec)
            FAIL("ktstr: cannot create " << dir.string() << ": " << ec.message());
        spec.output_dir = dir.string();
    }
    if (spec.console_log.empty())
        spec.console_log = (fs::path(spec.output_dir) / "console.log").string();

    vmm::VmResult r;
    // The emulated KVM host's outer guest dies now and then under heavy
    // traffic (docs/kvm-anywhere.md): that run says nothing about the
    // test, so it runs once more, and says so.
    for (int attempt = 1; attempt <= 2; ++attempt) {
        try {
            r = vmm::run_vm(spec);
        } catch (const vmm::SpecError& e) {
            FAIL("ktstr: the case's VM cannot run: " << e.what());
        }
        if (!r.emulated_host_failed)
            break;
        std::fprintf(stderr, "ktstr: %s%s\n", r.summary.c_str(), attempt == 1 ? "; running the case once more" : "");
    }
    switch (r.verdict) {
    case vmm::Verdict::pass:
        SUCCEED(r.summary);
        break;
    case vmm::Verdict::skip:
        ++skip_count;
        // On stderr as well: Catch2 v2's reporters (JUnit) may not show a
        // warning, and the reason is what a reader of the log needs.
        std::fprintf(stderr, "ktstr: %s\n", r.summary.c_str());
        WARN(r.summary);
        break;
    case vmm::Verdict::fail:
    case vmm::Verdict::inconclusive:
        FAIL(vmm::failure_report(r));
        break;
    }
}

}  // namespace

void set_guest_mode(bool on) noexcept { guest_mode = on; }

bool in_guest() noexcept { return guest_mode; }

bool record_check(bool ok, const char* expression, const char* file, int line, const std::string& message) {
    if (ok)
        return true;
    // A check of ktstr's own (no file) is its message alone.
    std::string text = *file ? fmt::format("{}:{}: KTSTR_CHECK({}) failed", file, line, expression)
                             : (message.empty() ? fmt::format("{} failed", expression) : message);
    if (*file && !message.empty())
        text += ": " + message;
    std::lock_guard lock(failures_mutex);
    if (!body_running) {
        // Not in a guest body: an ordinary Catch2 check.
        FAIL_CHECK(text);
        return false;
    }
    std::fprintf(stderr, "ktstr: %s\n", text.c_str());
    if (failures.size() < max_recorded_failures)
        failures.push_back({"check", std::move(text)});
    else
        ++failures_left_out;
    return false;
}

void skip(std::string reason) { throw Skipped{std::move(reason)}; }

guest::WorkloadResult run_workload(const guest::Workload& workload, const std::string& name) {
    static std::atomic<std::uint64_t> payload_index{0};
    auto result = guest::run_workload(workload);
    if (in_guest() && !result.send(name, payload_index++))
        std::fprintf(stderr, "ktstr: could not send workload %s's metrics to the host\n", name.c_str());
    for (const auto& w : result.workers) {
        const std::string who = fmt::format("workload {}: group {} worker {}", name, w.group, w.index);
        if (w.stuck)
            record_check(false, "the worker stopped when asked", "", 0, who + " did not stop when asked (stuck)");
        else if (w.starvation.starved)
            record_check(false, "the worker made progress", "", 0,
                         fmt::format("{} starved: no progress for {:.0f} ms (window {:.0f} ms), {} in all", who,
                                     std::chrono::duration<double, std::milli>(w.starvation.longest_stall).count(),
                                     std::chrono::duration<double, std::milli>(result.starvation_window).count(),
                                     w.progress));
    }
    return result;
}

void run_case(const char* name, vmm::VmSpec spec, void (*body)()) {
    ++run_count;
    if (in_guest())
        run_guest_half(body);
    else
        run_host_half(name, std::move(spec));
}

int cases_run() noexcept { return run_count; }
int cases_skipped() noexcept { return skip_count; }

}  // namespace ktstr::test
