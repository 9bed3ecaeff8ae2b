// One `ktstr-vmm run` on this host's KVM: the Machine with its outputs
// wired to what the user sees.
//   COM1 (kernel console)  -> the console log file; stderr with verbose;
//                             watched for a kernel panic
//   COM2 (fallback)        -> "KTSTR_EXIT=N" taken; other lines (init's
//                             errors, crash reports) printed when no Exit
//                             frame arrived, live with verbose
//   port 1 (ktstr-bulk)    -> the host loop (ktstr::host::HostLoop,
//   and the SHM ring          docs/host.md): Stdout/Stderr frames to
//                             stdout/stderr, snapshot requests answered on
//                             port 1's receive side, SchedExit stops the
//                             VM, every frame into the message log and the
//                             run result
// and the verdict (run_verdict.hpp) printed and returned; with `json`, the
// run result as one JSON line on stdout after everything else (always the
// last line); with `json_file`, the same line in that file.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "ktstr/common/unique_fd.hpp"
#include "machine/boot_files.hpp"
#include "machine/machine.hpp"

namespace ktstr::vmm::run {

// A scheduler run's files in the output directory.
inline constexpr const char* scheduler_log_name = "scheduler.log";
inline constexpr const char* sched_ext_dump_name = "sched_ext-dump.log";

// `run --scheduler`: the sched_ext scheduler ktstr-init starts before the
// command (it is in the image already); the host names it in the result.
struct SchedulerRun {
    std::string name;               // "scx_qmap"
    std::vector<std::string> args;
};

struct GuestRunOptions {
    machine::MachineConfig machine;
    // The command's time, from its start (ktstr-init's PayloadStarting
    // stage, the first one only), so a slow boot on a loaded machine does
    // not eat into it; until then boot_timeout, from the start, bounds it.
    std::chrono::seconds timeout{60};
    std::chrono::seconds boot_timeout{300};
    UniqueFd console_log;  // may be empty
    bool verbose = false;
    // --messages FILE: every frame as a JSON line (may be empty).
    std::filesystem::path messages_path;
    // Snapshot captures go under output_dir/snapshots (created if needed).
    std::filesystem::path output_dir;
    // --json: the run result on stdout once the run is over, on a line of
    // its own (a '\n' first when the guest's stdout did not end in one).
    bool json = false;
    // --summary: a short table of the run (host/run_summary.hpp) on stderr.
    bool summary = false;
    // --json-file FILE, opened by the caller: the run result written there
    // (may be empty).
    UniqueFd json_file;
    // The kernel's System.map (may be empty): after a boot timeout, names
    // where each vCPU was ("do_idle+0x1a4").
    std::filesystem::path system_map;
    // With a scheduler: its output (SchedLog) goes to
    // output_dir/scheduler.log and the kernel log the guest sends after a
    // dump (Dmesg) to output_dir/sched_ext-dump.log; a timeout first asks
    // the guest for that dump (timeout_dump.hpp); the scheduler's fate
    // decides the verdict when it failed (run_verdict.hpp), and the result
    // gains a `scheduler` object.
    std::optional<SchedulerRun> scheduler;
};

// Returns the process exit status. Throws what Machine's constructor
// throws (bad layout, KVM refusals) and std::runtime_error when the
// message log or the output directory cannot be created, before anything
// ran. The boot files go as soon as the Machine holds their bytes in guest
// RAM: they are not resident for the run.
int run_guest(GuestRunOptions options, machine::BootFiles boot);

}  // namespace ktstr::vmm::run
