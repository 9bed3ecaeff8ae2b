#include "cli/output_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace ktstr::cli {

std::filesystem::path default_output_base() {
    const char* tmp = std::getenv("TMPDIR");
    return tmp && *tmp ? std::filesystem::path(tmp) : std::filesystem::path("/tmp");
}

RunOutputDir::RunOutputDir(const std::filesystem::path& base) {
    std::string tmpl = (std::filesystem::absolute(base) / "ktstr-vmm-run-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error("cannot create an output directory in " + base.string() + ": " +
                                 std::strerror(errno));
    path_ = tmpl;
}

RunOutputDir::~RunOutputDir() {
    // Fails (ENOTEMPTY) when captures went there: they are the run's output.
    ::rmdir(path_.c_str());
}

}  // namespace ktstr::cli
