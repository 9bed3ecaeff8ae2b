#include "kernel/scratch_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

namespace ktstr::vmm::kernel {

ScratchDir::ScratchDir(const std::filesystem::path& parent, std::string_view prefix) {
    auto tmpl = (parent / (std::string(prefix) + "XXXXXX")).string();
    if (!::mkdtemp(tmpl.data()))
        throw std::runtime_error(fmt::format("mkdtemp in {}: {}", parent.string(), std::strerror(errno)));
    path_ = tmpl;
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace ktstr::vmm::kernel
