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
// Beyond this many failed checks per case, only their number is kept; a
// check's text is cut at max_detail_bytes. Together they keep the TEST
// record well below the host's 1 MiB decode limit, so no failure is lost.
constexpr std::size_t max_recorded_failures = 64;
constexpr std::size_t max_detail_bytes = 4096;

std::atomic<bool> guest_mode{false};
// The one case the guest half runs (exactly this name).
std::string guest_case;
std::atomic<int> run_count{0};
std::atomic<int> skip_count{0};
std::atomic<int> started_count{0};  // every Catch2 case, ktstr's or not

// The failed checks of the guest body that is running.
std::mutex failures_mutex;
std::vector<TestDetail> failures;
std::size_t failures_left_out = 0;
bool body_running = false;

// A test name as one directory name: its readable part, then a hash of
// the whole name, so two names that read alike (or alike in their first
// 100 bytes) never share a directory (and under ctest -j, never delete
// each other's files).
std::string directory_name(const std::string& name) {
    std::string out;
    for (unsigned char c : name)
        out += (std::isalnum(c) || c == '-' || c == '_' || c == '.') ? static_cast<char>(c) : '_';
    if (out.empty() || out[0] == '.')
        out.insert(0, "case");
    std::uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : name)
        h = (h ^ c) * 16777619u;
    return fmt::format("{}-{:08x}", out.substr(0, 100), h);
}

// A fresh directory for one attempt: what an earlier run (or attempt) left
// is removed first.
void fresh_directory(const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec)
        FAIL("ktstr: cannot empty " << dir.string() << ": " << ec.message());
    fs::create_directories(dir, ec);
    if (ec)
        FAIL("ktstr: cannot create " << dir.string() << ": " << ec.message());
}

std::string cut(std::string text) {
    if (text.size() > max_detail_bytes) {
        const auto more = text.size() - max_detail_bytes;
        text.resize(max_detail_bytes);
        text += fmt::format(" ... ({} bytes more)", more);
    }
    return text;
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
        result.details.push_back({"skip", cut(s.reason)});
    } catch (const RequireFailed&) {
        // The failed check is recorded already.
    } catch (const Catch::TestFailureException&) {
        // A Catch2 REQUIRE failed: Catch2 reported it and fails the guest
        // program; the TEST record says so too.
        record_check(false, "a Catch2 REQUIRE", "", 0, "a Catch2 REQUIRE failed (the guest's output has it)");
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
    // The exact name, as one argument: main() selects the case by it.
    spec.command = {guest_self, "--ktstr-guest", name};
    const bool own_dir = spec.output_dir.empty();
    if (own_dir)
        spec.output_dir = (output_root() / directory_name(name)).string();
    if (spec.console_log.empty())
        spec.console_log = (fs::path(spec.output_dir) / "console.log").string();

    vmm::VmResult r;
    // The emulated KVM host's outer guest dies now and then under heavy
    // traffic (docs/kvm-anywhere.md): that run says nothing about the
    // test, so it runs once more, and says so.
    for (int attempt = 1; attempt <= 2; ++attempt) {
        if (own_dir)
            fresh_directory(spec.output_dir);
        try {
            r = vmm::run_vm(spec);
        } catch (const vmm::SpecError& e) {
            FAIL("ktstr: the case's VM cannot run: " << e.what());
        } catch (const std::exception& e) {
            FAIL("ktstr: the case's VM failed: " << e.what());
        }
        if (!r.emulated_host_failed)
            break;
        std::fprintf(stderr, "ktstr: %s%s\n", r.summary.c_str(), attempt == 1 ? "; running the case once more" : "");
    }
    // The guest half reports exactly one TEST record, whatever the body
    // did. None (the body called exit(), the program never reached the
    // case, the record was lost) or several (more than one case ran)
    // leave the verdict unknown: not a pass.
    if ((r.verdict == vmm::Verdict::pass || r.verdict == vmm::Verdict::skip) && r.checks.size() != 1) {
        r.verdict = vmm::Verdict::fail;
        r.summary = fmt::format("fail: the guest half sent {} TEST records, not the one a case sends "
                                "(did the body exit early?)",
                                r.checks.size());
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

void set_guest_case(std::string name) {
    guest_case = std::move(name);
    guest_mode = true;
}

std::string exact_test_spec(const std::string& name) {
    // Only ktstr cases ([ktstr], which the macro adds), and a name pattern
    // that matches this name (and, Catch2's matching being loose, maybe
    // others: run_case runs the exact one only).
    std::string out = "[ktstr]";
    for (char c : name) {
        if (c == '\\' || c == ',' || c == '[' || c == ']' || c == '*' || c == '~' || c == '"')
            out += '\\';
        out += c;
    }
    return out;
}

bool in_guest() noexcept { return guest_mode; }

bool record_check(bool ok, const char* expression, const char* file, int line, const std::string& message) {
    if (ok)
        return true;
    // A check of ktstr's own (no file) is its message alone.
    std::string text = *file ? fmt::format("{}:{}: KTSTR_CHECK({}) failed", file, line, expression)
                             : (message.empty() ? fmt::format("{} failed", expression) : message);
    if (*file && !message.empty())
        text += ": " + message;
    text = cut(std::move(text));
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
    if (in_guest()) {
        // Catch2 may have matched more than the one case asked for.
        if (guest_case != name)
            return;
        ++run_count;
        run_guest_half(body);
    } else {
        ++run_count;
        run_host_half(name, std::move(spec));
    }
}

void note_case_started() noexcept { ++started_count; }
int cases_started() noexcept { return started_count; }
int cases_run() noexcept { return run_count; }
int cases_skipped() noexcept { return skip_count; }

}  // namespace ktstr::test
