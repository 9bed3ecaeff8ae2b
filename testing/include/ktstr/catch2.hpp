// Scheduler tests as Catch2 test cases whose bodies run inside a VM.
//
//   #include <ktstr/catch2.hpp>
//
//   KTSTR_TEST_CASE("scx_simple runs a command", "[scx_simple]",
//                   {.kernel = "sched-ext", .scheduler = "scx_simple"}) {
//       KTSTR_CHECK(std::system("true") == 0);
//   }
//
// On the host, the test case boots a VM (ktstr::vmm::run_vm) described by
// the spec (ktstr/vmm/vm_spec.hpp: kernel, topology, memory, scheduler,
// files, timeouts). The VM's init runs this same test program, with its
// shared libraries, in guest mode for that one case. Inside, the body
// runs with ktstr::guest at hand. Its checks (KTSTR_CHECK, KTSTR_REQUIRE,
// and Catch2's own) come back: KTSTR_CHECK's as TEST records with their
// file and line. On the host the case then passes or fails in Catch2 on the VM's
// verdict (ktstr/vmm/vm_result.hpp). A failure carries the failure report:
// the failed checks, the scheduler's fate and log, the workload metrics,
// the sched_ext dump and the kernel log's tail.
//
// Link ktstr::catch2, which brings main() (do not define
// CATCH_CONFIG_MAIN). With catch_discover_tests each case is one ctest
// test, and one VM; see docs/writing-tests.md. Each case's files go to
// $KTSTR_TEST_OUTPUT_DIR/<case>-<hash> (default:
// ./ktstr-test-output/<case>-<hash>), emptied when the case starts.
//
// Skipped cases (KTSTR_SKIP) make the program exit with
// ktstr::test::skip_exit_status when every case it ran was a skipped
// ktstr case: give catch_discover_tests PROPERTIES SKIP_RETURN_CODE 4.
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "ktstr/guest/workload.hpp"
#include "ktstr/guest/workload_result.hpp"
#include "ktstr/vmm/vm.hpp"

namespace ktstr::test {

inline constexpr int skip_exit_status = 4;

// Whether this process is the guest half of a case (started by the VM's
// init with --ktstr-guest).
bool in_guest() noexcept;

// Records one check of the running case's guest body. A failed one is
// printed on stderr at once and sent to the host at the end of the body,
// as a TEST record detail "FILE:LINE: KTSTR_CHECK(EXPR) failed[: MESSAGE]".
// Returns `ok`. Outside a guest body it is a Catch2 CHECK.
bool record_check(bool ok, const char* expression, const char* file, int line, const std::string& message = {});

// Thrown by KTSTR_REQUIRE after a failed check and by KTSTR_SKIP; caught
// by the case around its body.
struct RequireFailed {};
struct Skipped {
    std::string reason;
};
[[noreturn]] void skip(std::string reason);

// Runs `workload` (ktstr/guest/workload.hpp) in a guest body, sends its
// result to the host as PayloadMetrics named `name` (the run result's
// payload_metrics, the failure report's metrics table), and makes the
// default checks: a failed check for each starved worker (its progress
// stood still for the starvation window) and each stuck one (it did not
// stop when asked), naming the group and the worker. Throws what
// run_workload throws for a bad spec (a failed check of the body).
guest::WorkloadResult run_workload(const guest::Workload& workload, const std::string& name);

// The case: the guest half runs `body`; the host half boots the VM.
void run_case(const char* name, vmm::VmSpec spec, void (*body)());

// The number of ktstr cases this process ran, and how many of them were
// skipped (for main's exit status).
int cases_run() noexcept;
int cases_skipped() noexcept;

}  // namespace ktstr::test

#define KTSTR_CHECK(cond) ::ktstr::test::record_check(static_cast<bool>(cond), #cond, __FILE__, __LINE__)
#define KTSTR_CHECK_MESSAGE(cond, message) \
    ::ktstr::test::record_check(static_cast<bool>(cond), #cond, __FILE__, __LINE__, (message))
#define KTSTR_REQUIRE(cond)                                                                   \
    do {                                                                                      \
        if (!::ktstr::test::record_check(static_cast<bool>(cond), #cond, __FILE__, __LINE__)) \
            throw ::ktstr::test::RequireFailed{};                                             \
    } while (false)
#define KTSTR_SKIP(reason) ::ktstr::test::skip(reason)

#define KTSTR_INTERNAL_CAT2(a, b) a##b
#define KTSTR_INTERNAL_CAT(a, b) KTSTR_INTERNAL_CAT2(a, b)
// GCC's -Wextra counts the members a designated initializer leaves out
// (their defaults are the point): not for the spec.
#define KTSTR_INTERNAL_TEST_CASE(body, name, tags, ...)                             \
    static void body();                                                            \
    TEST_CASE(name, tags "[ktstr]") {                                              \
        _Pragma("GCC diagnostic push")                                             \
        _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")         \
        ::ktstr::test::run_case(name, ::ktstr::vmm::VmSpec __VA_ARGS__, &body);    \
        _Pragma("GCC diagnostic pop")                                              \
    }                                                                              \
    static void body()
// KTSTR_TEST_CASE("name", "[tags]", {spec}) { body, run in the guest }
// `name` and `tags` are string literals; the case also gets the tag
// [ktstr], by which the guest half finds it.
#define KTSTR_TEST_CASE(name, tags, ...) \
    KTSTR_INTERNAL_TEST_CASE(KTSTR_INTERNAL_CAT(ktstr_test_body_, __LINE__), name, tags, __VA_ARGS__)
