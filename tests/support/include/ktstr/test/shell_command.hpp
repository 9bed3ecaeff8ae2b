// Runs a shell command line and captures its standard output: how the tests
// ask independent tools (cpio, bsdtar, xz, ldd, dtc, iasl, objdump) for a
// second opinion on what our code wrote.
#pragma once

#include <string>

namespace ktstr::test {

struct ShellResult {
    int status = -1;  // the exit status; -1 when killed by a signal or not run
    std::string out;  // standard output only: append " 2>&1" to have stderr too
};

// Runs `command` with /bin/sh (popen). A command that cannot be started
// gives status -1 and no output, which every test's status check reports.
ShellResult shell(const std::string& command);

}  // namespace ktstr::test
