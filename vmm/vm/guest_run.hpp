// One `ktstr-vmm run` on this host's KVM: the Machine with its outputs
// wired to what the user sees.
//   COM1 (kernel console)  -> the console log file; stderr with verbose;
//                             watched for a kernel panic
//   COM2 (fallback)        -> "KTSTR_EXIT=N" taken; other lines (init's
//                             errors, crash reports) printed when the bulk
//                             port delivered no exit, live with verbose
//   port 1 (ktstr-bulk)    -> BulkPortReader: Stdout/Stderr frames to
//                             stdout/stderr, Exit/ExecExit kept
// and the verdict (run_verdict.hpp) printed and returned.
#pragma once

#include <chrono>

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/bzimage.hpp"
#include "kvm/unique_fd.hpp"
#include "vm/machine.hpp"

namespace ktstr::vmm::vm {

struct GuestRunOptions {
    MachineConfig machine;
    std::chrono::seconds timeout{60};
    UniqueFd console_log;  // may be empty
    bool verbose = false;
};

// Returns the process exit status. Throws what Machine's constructor
// throws (bad layout, KVM refusals) before anything ran.
int run_guest(GuestRunOptions options, const x86_64::BzImage& kernel, byte_view initrd);

}  // namespace ktstr::vmm::vm
