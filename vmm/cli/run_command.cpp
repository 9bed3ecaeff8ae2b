// `ktstr-vmm run`: boot a kernel in a fresh KVM VM, run one command inside,
// exit with its status (docs/run.md). A front end over run_vm()
// (ktstr/vmm/vm.hpp): the options fill its spec (run_options.hpp), and the
// run's exit status is the process's.
#include <memory>
#include <stdexcept>

#include <fmt/core.h>

#include "arch/x86_64/topology.hpp"

#include "cli/command.hpp"
#include "cli/run_options.hpp"
#include "ktstr/vmm/vm.hpp"

namespace ktstr::cli {

Command add_run_command(CLI::App& root) {
    auto opts = std::make_shared<RunOptions>();
    auto* app = root.add_subcommand(
        "run", "Boot a kernel in a fresh KVM VM, run CMD inside, and exit with its status (docs/run.md)");
    add_run_options(*app, *opts);
    app->footer("Exit status: the command's; 240 timeout, 241 kernel panic, 242 boot failure, 243 VMM failure, "
                "244 the scheduler was ejected (or the guest sent SchedExit), 245 the scheduler exited while the command "
                "ran, 246 the scheduler never attached, 2 bad arguments (docs/run.md, docs/sched-ext.md). With --report, "
                "a verdict other than pass (fail, skip, inconclusive) prints the failure report (docs/writing-tests.md).");
    return {app, [opts, app] {
                // A --cpus given beside --topology must agree with it (a
                // spec's cpus is only a default, which a topology replaces).
                if (app->count("--cpus") > 0 && !opts->topology.empty()) {
                    std::uint64_t cpus = 0;
                    try {
                        cpus = vmm::x86_64::parse_topology(opts->topology).cpus();
                    } catch (const std::invalid_argument& e) {
                        throw UsageError(fmt::format("run: --topology: {}", e.what()));
                    }
                    if (cpus != opts->cpus)
                        throw UsageError(fmt::format(
                            "run: --cpus {} conflicts with --topology {} ({} vCPUs); give one of them", opts->cpus,
                            opts->topology, cpus));
                }
                return ktstr::vmm::run_vm(*opts).exit_status;
            }};
}

}  // namespace ktstr::cli
