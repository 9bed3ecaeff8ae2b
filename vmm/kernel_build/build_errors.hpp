// How `kernel build` fails, by who can fix it: the user's input (exit 2),
// options Kconfig dropped (exit 2, one line each), or the build itself
// (exit 1, with the end of make's log and where the whole log is kept).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace ktstr::vmm::kernel_build {

// Bad input caught before anything is built: a fragment that does not
// parse, a source that is not a kernel tree, a bad name or job count.
struct BadBuildInput : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Options the fragments asked for that olddefconfig did not keep; nothing
// was compiled. `lines` holds one describe() line per option.
struct ConfigRejected : std::runtime_error {
    explicit ConfigRejected(std::vector<std::string> l)
        : std::runtime_error("options did not survive olddefconfig"), lines(std::move(l)) {}
    std::vector<std::string> lines;
};

// A make (or tar, or apt) that failed. what() is the one summary line;
// `excerpt` the log's error lines (or its last lines); `log` where the
// whole log was kept, when it was.
struct BuildFailed : std::runtime_error {
    BuildFailed(const std::string& what, std::vector<std::string> e, std::filesystem::path l)
        : std::runtime_error(what), excerpt(std::move(e)), log(std::move(l)) {}
    std::vector<std::string> excerpt;
    std::filesystem::path log;
};

}  // namespace ktstr::vmm::kernel_build
