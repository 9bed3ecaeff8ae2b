#include "emulated_host/outer_kernel.hpp"

#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::emulated_host {

kernel::KernelImage find_outer_kernel() {
    auto k = kernel::resolve("default");
    if (!k.modules_dir)
        throw std::runtime_error(fmt::format("the default kernel {} has no modules directory", k.bzimage.string()));
    return k;
}

}  // namespace ktstr::vmm::emulated_host
