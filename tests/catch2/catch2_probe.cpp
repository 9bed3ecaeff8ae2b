// A ktstr Catch2 test program for the VM test catch2_vm_test.py: each
// case is run on its own (one VM each) and its verdict checked from the
// outside, the failing and skipped ones included.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include <ktstr/catch2.hpp>

namespace {

std::string read_file(const char* path) {
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

// A name with the characters a Catch2 test spec gives a meaning: the guest
// half must still run exactly this case.
KTSTR_TEST_CASE("the body runs in the guest, [2 cpus], *exactly*", "[probe][pass]", {.cpus = 2}) {
    KTSTR_CHECK(ktstr::test::in_guest());
    KTSTR_CHECK(sysconf(_SC_NPROCESSORS_ONLN) == 2);
    KTSTR_CHECK(read_file("/proc/cmdline").find("KTSTR_GUEST=1") != std::string::npos);
    // Catch2's own checks work in the body too.
    CHECK(read_file("/proc/1/comm").find("init") != std::string::npos);
}

KTSTR_TEST_CASE("a failed check comes back with its file and line", "[probe][fail]", {}) {
    const int cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    KTSTR_CHECK(cpus > 0);
    KTSTR_CHECK_MESSAGE(cpus == 64, "the guest has " + std::to_string(cpus) + " CPUs");
}

KTSTR_TEST_CASE("a skipped case is a skip", "[probe][skip]", {}) {
    KTSTR_SKIP("this probe always skips");
}

// A body that leaves without its TEST record (exit() skips it): the host
// must not take the exit status 0 for a pass.
KTSTR_TEST_CASE("a body that exits early is no pass", "[probe][exit-early]", {}) {
    std::exit(0);
}

// Decoys: names Catch2's loose matching (case-insensitive, a trailing '*'
// as a wildcard) takes for the first case's. The guest half must run the
// exact case only; if it ran one of these, its failed check would come
// back too.
KTSTR_TEST_CASE("THE BODY RUNS IN THE GUEST, [2 CPUS], *EXACTLY*", "[probe][decoy]", {}) {
    KTSTR_CHECK(false);
}
KTSTR_TEST_CASE("the body runs in the guest, [2 cpus], *exactly* and more", "[probe][decoy]", {}) {
    KTSTR_CHECK(false);
}
