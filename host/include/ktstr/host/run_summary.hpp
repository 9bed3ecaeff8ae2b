// A run result as a few lines a person reads at a glance: per channel the
// frames, CRC errors and losses; the frames per type on each channel; the
// snapshot requests; the exit status. `ktstr-vmm run --summary` prints it
// on stderr after the run.
//
// Only numbers and the catalogue's tags appear (unknown types are counted
// as "unknown"), so no guest text reaches the terminal through it.
#pragma once

#include <string>

#include "ktstr/host/run_result.hpp"

namespace ktstr::host {

// `exit_status` is the run's process exit status; `exit_reason` says whose
// it is ("the command's", or the VMM's reason); lines end in '\n'.
std::string format_run_summary(const RunResult& result, int exit_status, const std::string& exit_reason);

}  // namespace ktstr::host
