// The failure report (ktstr/vmm/vm.hpp): its sections, guest text escaped
// behind a prefix, and files read only as far as it needs.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "ktstr/vmm/vm.hpp"

namespace fs = std::filesystem;
using ktstr::vmm::Verdict;
using ktstr::vmm::VmResult;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "ktstr-report-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() { fs::remove_all(path); }
};

VmResult failed_run(const fs::path& dir) {
    VmResult r;
    r.verdict = Verdict::fail;
    r.exit_status = 244;
    r.summary = "fail: scheduler scx_qmap was ejected";
    r.output_dir = dir;
    r.checks.push_back({false, {{"check", "t.cpp:9: KTSTR_CHECK(ok) failed\x1b[2J"}}});
    ktstr::vmm::SchedulerResult s;
    s.name = "scx_qmap";
    s.fate = "ejected";
    s.kind = 1025;
    s.kind_name = "ERROR_BPF";
    s.reason = "scx_bpf_error (test triggering error)";
    s.log = dir / "scheduler.log";
    s.dump = dir / "sched_ext-dump.log";
    r.scheduler = s;
    r.metrics.push_back({0, "pingpong", 0, {{"group.pp.progress_total", 42, "round_trips"}}});
    r.console_log = dir / "console.log";
    std::ofstream(s.log) << "qmap: starting\nqmap: error\n";
    std::ofstream(s.dump) << "dump line 1\ndump line 2\n";
    return r;
}

}  // namespace

TEST_CASE("the failure report has one summary line, then its sections", "[api]") {
    TempDir d;
    auto r = failed_run(d.path);
    {
        std::ofstream log(r.console_log);
        for (int i = 0; i < 100; ++i)
            log << "[ " << i << "] kernel line\r\n";
    }
    const std::string text = ktstr::vmm::failure_report(r);
    CHECK(text.starts_with("fail: scheduler scx_qmap was ejected\n"));
    for (const char* section : {"== failed checks ==", "== scheduler ==", "== workload metrics ==",
                                "== sched_ext dump", "== kernel log", "== files =="})
        CHECK(text.find(section) != std::string::npos);
    // Guest text is escaped and prefixed: no escape sequence reaches the terminal.
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find("  | [check] t.cpp:9: KTSTR_CHECK(ok) failed") != std::string::npos);
    CHECK(text.find("  | qmap: error") != std::string::npos);
    CHECK(text.find("  |   group.pp.progress_total") != std::string::npos);  // guest names behind "| "
    // The kernel log's last lines only, without the console's '\r'.
    CHECK(text.find("[ 99] kernel line\n") != std::string::npos);
    CHECK(text.find("[ 10] kernel line") == std::string::npos);

    const auto j = ktstr::vmm::failure_report_json(r);
    CHECK(j["verdict"] == "fail");
    CHECK(j["exit_status"] == 244);
    CHECK(j["failed_checks"].size() == 1);
    CHECK(j["scheduler"]["fate"] == "ejected");
    CHECK(j["dump_head"].size() == 2);
    CHECK(j["kernel_log_tail"].size() == 40);
    CHECK(j["metrics"][0]["metrics"][0]["value"] == 42);
}

TEST_CASE("a huge console log is read from its end only", "[api]") {
    TempDir d;
    auto r = failed_run(d.path);
    {
        std::ofstream log(r.console_log, std::ios::binary);
        const std::string junk(1 << 20, 'x');  // one 1 MiB line
        for (int i = 0; i < 8; ++i)
            log << junk;
        log << "\nthe end\n";
    }
    const auto j = ktstr::vmm::failure_report_json(r);
    REQUIRE(j["kernel_log_tail"].size() >= 1);
    CHECK(j["kernel_log_tail"].back() == "the end");
    for (const auto& line : j["kernel_log_tail"])
        CHECK(line.get<std::string>().size() <= 512);
}

TEST_CASE("a passing run's report is its summary and where the files are", "[api]") {
    VmResult r;
    r.verdict = Verdict::pass;
    r.summary = "pass: the command exited 0";
    const std::string text = ktstr::vmm::failure_report(r);
    CHECK(text.starts_with("pass: the command exited 0\n"));
    CHECK(text.find("== failed checks ==") == std::string::npos);
    CHECK(text.find("== scheduler ==") == std::string::npos);
}

TEST_CASE("guest bytes that are not UTF-8 do not break the JSON report", "[api]") {
    TempDir d;
    auto r = failed_run(d.path);
    {
        std::ofstream log(r.console_log, std::ios::binary);
        log << std::string(511, 'a') << "\xc3\xa9 cut inside a character\n" << "\xff\xfe raw bytes\n";
    }
    const auto j = ktstr::vmm::failure_report_json(r);
    std::string text;
    REQUIRE_NOTHROW(text = j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    CHECK(text.find("raw bytes") != std::string::npos);
}

TEST_CASE("a dump that is one huge line is read 1 MiB far, cut per line", "[api]") {
    TempDir d;
    auto r = failed_run(d.path);
    {
        std::ofstream dump(r.scheduler->dump, std::ios::binary);
        dump << std::string(8u << 20, 'd');
    }
    const auto j = ktstr::vmm::failure_report_json(r);
    REQUIRE(j["dump_head"].size() >= 1);
    for (const auto& line : j["dump_head"])
        CHECK(line.get<std::string>().size() <= 512);
}
