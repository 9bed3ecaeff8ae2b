// ktstr-selftest: exercises every part of ktstr::guest from inside a VM
// and reports what it sent, for the end-to-end tests. See docs/guest.md.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "selftest_options.hpp"
#include "selftest_steps.hpp"

int main(int argc, char** argv) {
    using namespace ktstr::selftest;
    SelftestOptions options;
    try {
        options = parse_selftest_options(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "ktstr-selftest: %s\n%s", e.what(), selftest_usage);
        return 2;
    }
    if (options.help) {
        std::fputs(selftest_usage, stdout);
        return 0;
    }
    return Selftest(options).run();
}
