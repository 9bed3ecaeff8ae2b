// What a failing scheduler test looks like. scx_qmap with `-e 100` calls
// scx_bpf_error() after a while: the kernel ejects it, and the case fails
// with the kernel's reason, the scheduler's log and the sched_ext dump in
// its report. CMakeLists.txt makes ctest expect exactly that failure.
#include <chrono>

#include <ktstr/catch2.hpp>
#include <ktstr/guest/workload.hpp>

using namespace std::chrono_literals;
namespace kg = ktstr::guest;

KTSTR_TEST_CASE("an scx_qmap error is caught as a failure with its reason", "[scx_qmap]",
                {.kernel = "sched-ext", .scheduler = "scx_qmap", .scheduler_args = {"-e", "100"}}) {
    kg::Workload w;
    w.duration = 20s;
    w.groups = {{.name = "sleepers", .kind = kg::SleepWake{}, .count = 4}};
    ktstr::test::run_workload(w, "sleepers");
}
