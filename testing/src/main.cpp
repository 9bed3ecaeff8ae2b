// main() of a ktstr Catch2 test program (ktstr/catch2.hpp). On the host it
// is Catch2's own main. The VM's init starts the program as
// `PROGRAM --ktstr-guest TESTSPEC` for one case's guest half.
#define CATCH_CONFIG_RUNNER
// Failure reports carry long lines (a scheduler's reason, a kernel log
// line); Catch2's default wraps them at 80 columns, which splits what a
// reader or a ctest PASS_REGULAR_EXPRESSION looks for.
#define CATCH_CONFIG_CONSOLE_WIDTH 300
#include <cstring>
#include <vector>

#include "ktstr/catch2.hpp"
#include "testing_state.hpp"

int main(int argc, char** argv) {
    std::vector<char*> args(argv, argv + argc);
    if (args.size() > 1 && std::strcmp(args[1], "--ktstr-guest") == 0) {
        ktstr::test::set_guest_mode(true);
        args.erase(args.begin() + 1);
    }
    Catch::Session session;
    const int failed = session.run(static_cast<int>(args.size()), args.data());
    // Every ktstr case this run ran was skipped: ctest's SKIP_RETURN_CODE.
    if (failed == 0 && !ktstr::test::in_guest() && ktstr::test::cases_run() > 0 &&
        ktstr::test::cases_skipped() == ktstr::test::cases_run())
        return ktstr::test::skip_exit_status;
    return failed;
}
