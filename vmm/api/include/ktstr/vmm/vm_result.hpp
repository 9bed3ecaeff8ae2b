// What one VM run gave: the verdict, the exit status `ktstr-vmm run` exits
// with, what the guest's checks and workloads reported, the scheduler's
// fate, and where the files are. Built by run_vm() (vm.hpp) from the run
// result the host wrote (result.json, docs/host.md), so the same holds for
// a run on this machine's KVM and one inside the emulated host.
//
// Everything quoted from the guest (check messages, the scheduler's
// reason) is guest text: a program that prints it must treat it as such.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ktstr/common/structured.hpp"

namespace ktstr::vmm {

// pass: the command exited 0, every guest check passed and the scheduler
//       (if any) stayed attached.
// fail: anything the test is to blame for: a failed check, a non-zero
//       exit, a timeout, a kernel panic, the scheduler ejected, exited or
//       never attached.
// skip: the guest said the test does not apply (a TEST record with a
//       "skip" detail, KTSTR_SKIP) and nothing failed.
// inconclusive: the run could not say: the boot failed, the VMM or the
//       emulated host failed, or no run result came back.
enum class Verdict { pass, fail, skip, inconclusive };

std::string_view verdict_name(Verdict v) noexcept;

// The scheduler part of the result (docs/sched-ext.md).
struct SchedulerResult {
    std::string name;                    // "scx_qmap"
    std::string fate;                    // attached, ejected, exited, never_attached, unknown
    std::string ops;                     // the ops name the kernel showed
    std::optional<std::int64_t> attached_after_ms;
    std::optional<std::int64_t> kind;    // the sched_ext exit kind, when ejected
    std::string kind_name;               // "ERROR_BPF"
    std::string reason;                  // the kernel's or the scheduler's words (guest text)
    std::filesystem::path log;           // scheduler.log, when it wrote anything
    std::filesystem::path dump;          // sched_ext-dump.log, when a dump came back
};

struct VmResult {
    Verdict verdict = Verdict::inconclusive;
    int exit_status = 0;       // as `ktstr-vmm run` exits (docs/run.md)
    std::string summary;       // one line: the verdict and why ("fail: ...")
    std::string status_reason; // the VMM's own reason for a status of its own; empty for the command's
    // The emulated KVM host itself failed (its outer guest or QEMU died):
    // nothing about the test is known; running it again is the remedy.
    bool emulated_host_failed = false;
    std::optional<std::int32_t> command_exit;  // the guest command's exit code, when it reported one
    std::optional<SchedulerResult> scheduler;
    std::vector<TestResult> checks;            // the guest's TEST records, in arrival order
    std::uint64_t checks_failed = 0;
    std::vector<PayloadMetrics> metrics;       // the guest's PMET records (workloads)
    std::map<std::string, std::uint64_t> message_counts;  // frames by tag ("SOUT")
    std::uint64_t frames = 0;
    std::optional<double> boot_ms;             // the first SysReady after the start
    double run_ms = 0;
    std::filesystem::path output_dir;
    std::filesystem::path result_file;         // the run result, JSON (empty: none came back)
    std::filesystem::path console_log;         // empty: not kept
    // The run result as the host wrote it (null: none came back).
    nlohmann::ordered_json run_result;

    bool passed() const noexcept { return verdict == Verdict::pass; }
};

// The verdict and the summary line for a run that exited with `status`
// and wrote `run_result` (null when none came back). Pure; run_vm() uses
// it, and tests call it with made-up results.
void decide_verdict(VmResult& result);

// Fills `result` from a run result (the JSON docs/host.md describes);
// unknown or mistyped fields are ignored, never fatal: the guest wrote
// part of what is in it. The scheduler's log and dump are looked for in
// result.output_dir (set it first), never at paths the JSON names.
void read_run_result(VmResult& result, const nlohmann::ordered_json& run_result);

}  // namespace ktstr::vmm
