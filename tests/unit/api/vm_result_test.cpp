// The verdict of a run from its exit status and run result
// (ktstr/vmm/vm_result.hpp), and reading a run result that the guest had
// a hand in.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "ktstr/vmm/vm_result.hpp"

using ktstr::vmm::Verdict;
using ktstr::vmm::VmResult;
using json = nlohmann::ordered_json;

namespace {

VmResult decided(int status, const json& result) {
    VmResult r;
    r.exit_status = status;
    ktstr::vmm::read_run_result(r, result);
    ktstr::vmm::decide_verdict(r);
    return r;
}

json passing_test() { return {{"passed", true}, {"details", json::array()}}; }

}  // namespace

TEST_CASE("a run that exited 0 with passing checks passes", "[api]") {
    const auto r = decided(0, {{"exit_code", 0}, {"tests", {passing_test()}}, {"tests_failed", 0}});
    CHECK(r.verdict == Verdict::pass);
    CHECK(r.passed());
    CHECK(r.summary.starts_with("pass: "));
    CHECK(r.command_exit == 0);
}

TEST_CASE("a failed check fails the run and names the check", "[api]") {
    const json failed = {{"passed", false}, {"details", {{{"kind", "check"}, {"message", "t.cpp:7: KTSTR_CHECK(x) failed"}}}}};
    const auto r = decided(1, {{"exit_code", 1}, {"tests", {failed}}, {"tests_failed", 1}});
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.summary.find("t.cpp:7: KTSTR_CHECK(x) failed") != std::string::npos);
    REQUIRE(r.checks.size() == 1);
    CHECK_FALSE(r.checks[0].passed);
}

TEST_CASE("a non-zero command status fails the run even with no checks", "[api]") {
    const auto r = decided(3, {{"exit_code", 3}});
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.summary == "fail: the command exited with status 3");
}

TEST_CASE("a scheduler ejection fails with the VMM's reason", "[api]") {
    const auto r = decided(244, {{"exit_code", 0},
                                 {"status_reason", "scheduler scx_qmap was ejected (ERROR_BPF, kind 1025)"},
                                 {"scheduler", {{"name", "scx_qmap"}, {"fate", "ejected"}, {"kind", 1025},
                                                {"kind_name", "ERROR_BPF"}, {"reason", "scx_bpf_error"}}}});
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.summary == "fail: scheduler scx_qmap was ejected (ERROR_BPF, kind 1025)");
    REQUIRE(r.scheduler);
    CHECK(r.scheduler->fate == "ejected");
    CHECK(r.scheduler->kind == 1025);
}

TEST_CASE("a skip detail with nothing failed is a skip", "[api]") {
    const json skipped = {{"passed", true}, {"details", {{{"kind", "skip"}, {"message", "needs 2 nodes"}}}}};
    const auto r = decided(0, {{"exit_code", 0}, {"tests", {skipped}}});
    CHECK(r.verdict == Verdict::skip);
    CHECK(r.summary == "skip: needs 2 nodes");
    // ... but a failure anywhere wins over it.
    const json failed = {{"passed", false}, {"details", json::array()}};
    CHECK(decided(1, {{"tests", {skipped, failed}}, {"tests_failed", 1}}).verdict == Verdict::fail);
}

TEST_CASE("no run result, a boot failure or a VMM failure is inconclusive", "[api]") {
    CHECK(decided(0, nullptr).verdict == Verdict::inconclusive);
    CHECK(decided(125, nullptr).summary.find("emulated KVM host") != std::string::npos);
    CHECK(decided(242, {{"exit_code", nullptr}, {"status_reason", "boot failure: no exit status"}}).verdict ==
          Verdict::inconclusive);
    CHECK(decided(243, {{"exit_code", nullptr}, {"status_reason", "VMM failure: KVM"}}).verdict ==
          Verdict::inconclusive);
    // A timeout is the test's: it did not finish.
    CHECK(decided(240, {{"exit_code", nullptr}}).verdict == Verdict::fail);
}

TEST_CASE("a mistyped run result is read as far as it goes, never thrown on", "[api]") {
    const json hostile = {{"exit_code", "zero"},
                          {"frames", -1},
                          {"message_counts", {{"SOUT", "many"}, {"SERR", 2}}},
                          {"tests", {42, "x", {{"passed", "yes"}}, passing_test()}},
                          {"payload_metrics", {{{"payload", 7}}, nullptr}},
                          {"scheduler", {{"name", 1}, {"fate", {1, 2}}, {"kind", "k"}}}};
    VmResult r;
    r.exit_status = 0;
    REQUIRE_NOTHROW(ktstr::vmm::read_run_result(r, hostile));
    ktstr::vmm::decide_verdict(r);
    CHECK_FALSE(r.command_exit);
    CHECK(r.message_counts.size() == 1);
    CHECK(r.checks.size() == 1);  // only the well-formed one
    CHECK(r.metrics.empty());
    REQUIRE(r.scheduler);
    CHECK(r.scheduler->name.empty());
    CHECK(r.scheduler->fate == "unknown");
    CHECK(r.verdict == Verdict::pass);
}

TEST_CASE("payload metrics are read in the wire's shape", "[api]") {
    const json pm = {{"payload_index", 0}, {"payload", "pingpong"}, {"exit_code", 0},
                     {"metrics", {{{"name", "group.pp.progress_total"}, {"value", 1234.0}, {"unit", "round_trips"}}}}};
    const auto r = decided(0, {{"exit_code", 0}, {"payload_metrics", {pm}}});
    REQUIRE(r.metrics.size() == 1);
    CHECK(r.metrics[0].payload == "pingpong");
    REQUIRE(r.metrics[0].metrics.size() == 1);
    CHECK(r.metrics[0].metrics[0].value == 1234.0);
}

TEST_CASE("a command that exits 242 or 243 itself is a fail, not the VMM's inconclusive", "[api]") {
    // No status_reason: the status is the command's own.
    CHECK(decided(242, {{"exit_code", 242}, {"status_reason", ""}}).verdict == Verdict::fail);
    CHECK(decided(243, {{"exit_code", 243}}).verdict == Verdict::fail);
}

TEST_CASE("the VMM's reason is escaped: it came back through the guest's hands", "[api]") {
    const auto r = decided(242, {{"status_reason", "boot failure\x1b[2J\nfake: line"}});
    CHECK(r.verdict == Verdict::inconclusive);
    CHECK(r.summary.find('\x1b') == std::string::npos);
    CHECK(r.summary.find('\n') == std::string::npos);
}

TEST_CASE("the scheduler's files are the output directory's, never paths the JSON names", "[api]") {
    namespace fs = std::filesystem;
    std::string t = (fs::temp_directory_path() / "ktstr-result-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    const fs::path dir = t;
    const json sched = {{"name", "scx_qmap"}, {"fate", "ejected"}, {"log", "/etc/passwd"}, {"dump", "/etc/shadow"}};
    VmResult r;
    r.exit_status = 244;
    r.output_dir = dir;
    ktstr::vmm::read_run_result(r, {{"scheduler", sched}});
    REQUIRE(r.scheduler);
    CHECK(r.scheduler->log.empty());  // not there yet
    CHECK(r.scheduler->dump.empty());
    std::ofstream(dir / "scheduler.log") << "log\n";
    std::ofstream(dir / "sched_ext-dump.log") << "dump\n";
    ktstr::vmm::read_run_result(r, {{"scheduler", sched}});
    CHECK(r.scheduler->log == dir / "scheduler.log");
    CHECK(r.scheduler->dump == dir / "sched_ext-dump.log");
    fs::remove_all(dir);
}
