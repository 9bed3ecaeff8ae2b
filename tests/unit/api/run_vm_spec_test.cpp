// run_vm refuses a spec that cannot run with a SpecError (one line),
// before anything is built or booted.
#include <catch2/catch.hpp>

#include "ktstr/vmm/vm.hpp"

using ktstr::vmm::SpecError;
using ktstr::vmm::VmSpec;

namespace {

VmSpec runnable() {
    VmSpec s;
    s.command = {"true"};
    return s;
}

}  // namespace

TEST_CASE("run_vm refuses a spec that cannot run, before booting", "[api]") {
    VmSpec s = runnable();
    s.command.clear();
    CHECK_THROWS_WITH(ktstr::vmm::run_vm(s), Catch::Contains("no command given"));

    s = runnable();
    s.cpus = 0;
    CHECK_THROWS_AS(ktstr::vmm::run_vm(s), SpecError);

    s = runnable();
    s.scheduler_args = {"-e"};
    CHECK_THROWS_WITH(ktstr::vmm::run_vm(s), Catch::Contains("--scheduler-arg without --scheduler"));

    s = runnable();
    s.shm_size = "lots";
    CHECK_THROWS_WITH(ktstr::vmm::run_vm(s), Catch::Contains("is not a size"));

    s = runnable();
    s.topology = "2,1,2";
    CHECK_THROWS_WITH(ktstr::vmm::run_vm(s), Catch::Contains("--topology"));

    s = runnable();
    s.topology = "2,1,2,2";
    s.memory_mib = 32;  // too little for two NUMA nodes
    CHECK_THROWS_AS(ktstr::vmm::run_vm(s), SpecError);

    s = runnable();
    s.console_log = "/nonexistent-dir/console.log";
    CHECK_THROWS_WITH(ktstr::vmm::run_vm(s), Catch::Contains("no directory"));
}
