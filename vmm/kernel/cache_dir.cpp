#include "kernel/cache_dir.hpp"

#include <cstdlib>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::kernel {

std::filesystem::path ktstr_cache_dir(std::string_view kind) {
    std::filesystem::path base;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
        base = x;
    else if (const char* h = std::getenv("HOME"); h && *h)
        base = std::filesystem::path(h) / ".cache";
    else
        throw std::runtime_error(fmt::format("neither XDG_CACHE_HOME nor HOME is set: no place for the {} cache", kind));
    return base / "ktstr" / kind;
}

}  // namespace ktstr::vmm::kernel
