// ktstr's VMM as a library: boot a kernel in a fresh KVM virtual machine,
// start the sched_ext scheduler, run one command inside and collect what
// the guest reported. `ktstr-vmm run` is a front end over run_vm(); the
// Catch2 integration (ktstr/catch2.hpp) is another.
//
//   ktstr::vmm::VmSpec spec{.kernel = "sched-ext", .scheduler = "scx_simple", .command = {"true"}};
//   ktstr::vmm::VmResult r = ktstr::vmm::run_vm(spec);
//   if (!r.passed()) std::cerr << ktstr::vmm::failure_report(r);
//
// Link ktstr::vmm (find_package(ktstr)). The guest programs (ktstr-init,
// ktstr-selftest) and, for the emulated host, the ktstr-vmm program are
// found beside the library: the build tree or the install prefix's
// libexec/ktstr and bin.
#pragma once

#include <stdexcept>
#include <string>

#include "ktstr/vmm/vm_result.hpp"
#include "ktstr/vmm/vm_spec.hpp"

namespace ktstr::vmm {

// A spec that cannot run (a bad size, a missing kernel or scheduler, an
// unreadable --include, an output file that cannot be written): found
// before anything boots. what() is one line.
struct SpecError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs `spec` to the end. The guest's stdout and stderr go to this
// process's, and the VMM's own lines ("ktstr-vmm: ...") to stderr, as
// `ktstr-vmm run` prints them. Throws SpecError for a spec that cannot
// run, before booting, and std::runtime_error when the host cannot start
// a VM at all (no ktstr-vmm program for the emulated host, QEMU cannot be
// started); a run that fails once the VM started is a result (verdict
// fail or inconclusive), not an exception. With a verdict other than pass and an output directory
// of the caller's, the failure report is also written there as
// report.json (failure_report.hpp).
VmResult run_vm(VmSpec spec);

// The failure report: one summary line, then sections (failed checks,
// the scheduler's fate and log, workload metrics, the sched_ext dump, the
// kernel log's last lines, where the files are). Guest text is escaped
// and behind a "| " prefix. Empty sections are left out.
std::string failure_report(const VmResult& result);

// The same as JSON: {"verdict", "summary", "exit_status", "failed_checks",
// "scheduler", "metrics", "dump_head", "kernel_log_tail", "files"}.
nlohmann::ordered_json failure_report_json(const VmResult& result);

}  // namespace ktstr::vmm
