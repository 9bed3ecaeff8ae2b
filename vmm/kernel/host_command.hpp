// Runs a host program (apt-cache, apt-get, dpkg-deb, busybox --list) and
// collects what it printed; for commands whose output is small.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ktstr::vmm::kernel {

struct CommandResult {
    int status = -1;      // exit code, or 128 + signal
    std::string output;   // stdout and stderr interleaved, capped at 1 MiB
};

// argv[0] is looked up on PATH unless it contains '/'. Throws
// std::runtime_error when the program cannot be started (not installed);
// a program that runs and fails returns its status.
CommandResult run_host_command(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});

// Whether `program` is on PATH.
bool on_path(const std::string& program);

}  // namespace ktstr::vmm::kernel
