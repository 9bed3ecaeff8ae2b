// Where ktstr-vmm caches what it fetches and builds: $XDG_CACHE_HOME/ktstr
// (default ~/.cache/ktstr), one folder a kind (kernels/, initramfs/).
#pragma once

#include <filesystem>
#include <string_view>

namespace ktstr::vmm::kernel {

// The cache folder for `kind` (not created). Throws std::runtime_error
// when neither XDG_CACHE_HOME nor HOME is set.
std::filesystem::path ktstr_cache_dir(std::string_view kind);

}  // namespace ktstr::vmm::kernel
