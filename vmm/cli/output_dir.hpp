// `ktstr-vmm run`'s default output directory (where snapshot captures go
// without --output-dir). A predictable name under a shared /tmp could be
// taken first by someone else, or be a link to elsewhere; so it is made as
// mkdtemp(3) makes it: a new directory (never an existing one, never
// through a link) with an unpredictable name, mode 0700. It exists for the
// whole run, so that the emulated host's inner run can be given its path;
// a run without captures leaves nothing: it is removed at the end when
// empty.
#pragma once

#include <filesystem>

namespace ktstr::cli {

// $TMPDIR, else /tmp.
std::filesystem::path default_output_base();

class RunOutputDir {
public:
    // Makes `base`/ktstr-vmm-run-XXXXXX (absolute). Throws
    // std::runtime_error with a one-line message when it cannot.
    explicit RunOutputDir(const std::filesystem::path& base);
    // Removes the directory if it is still empty (rmdir: what a capture
    // wrote there stays).
    ~RunOutputDir();
    RunOutputDir(const RunOutputDir&) = delete;
    RunOutputDir& operator=(const RunOutputDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace ktstr::cli
