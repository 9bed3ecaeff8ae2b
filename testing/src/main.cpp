// main() of a ktstr Catch2 test program (ktstr/catch2.hpp). On the host it
// is Catch2's own main. The VM's init starts the program as
// `PROGRAM --ktstr-guest NAME` for the guest half of the case named NAME.
#define CATCH_CONFIG_RUNNER
// Failure reports carry long lines (a scheduler's reason, a kernel log
// line); Catch2's default wraps them at 80 columns, which splits what a
// reader or a ctest PASS_REGULAR_EXPRESSION looks for.
#define CATCH_CONFIG_CONSOLE_WIDTH 300
#include <cstring>
#include <string>
#include <vector>

#include "ktstr/catch2.hpp"
#include "testing_state.hpp"

namespace {

// Counts every test case Catch2 starts, ktstr's or not.
struct CaseCounter : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testCaseStarting(const Catch::TestCaseInfo& info) override {
        TestEventListenerBase::testCaseStarting(info);
        ktstr::test::note_case_started();
    }
};
CATCH_REGISTER_LISTENER(CaseCounter)

}  // namespace

int main(int argc, char** argv) {
    std::vector<char*> args(argv, argv + argc);
    std::string spec;
    if (args.size() > 1 && std::strcmp(args[1], "--ktstr-guest") == 0) {
        if (args.size() != 3) {
            std::fprintf(stderr, "ktstr: --ktstr-guest takes one case name and nothing else\n");
            return 2;
        }
        ktstr::test::set_guest_case(args[2]);
        spec = ktstr::test::exact_test_spec(args[2]);
        args = {argv[0], spec.data()};
    }
    Catch::Session session;
    const int failed = session.run(static_cast<int>(args.size()), args.data());
    // Every case this run started was a skipped ktstr case: ctest's
    // SKIP_RETURN_CODE.
    if (failed == 0 && !ktstr::test::in_guest() && ktstr::test::cases_run() > 0 &&
        ktstr::test::cases_skipped() == ktstr::test::cases_run() &&
        ktstr::test::cases_started() == ktstr::test::cases_run())
        return ktstr::test::skip_exit_status;
    return failed;
}
