#include "emulated_host/outer_kernel.hpp"

#include <cstdlib>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::emulated_host {

kernel::KernelImage find_outer_kernel(kernel::KernelArch arch) {
    const char* chosen = std::getenv("KTSTR_EMULATED_HOST_KERNEL");
    auto k = kernel::resolve(chosen && *chosen ? chosen : "default", {}, arch);
    if (k.arch != arch)
        throw std::runtime_error(fmt::format("the outer kernel {} is an {} kernel, not {}", k.bzimage.string(),
                                             kernel::arch_name(k.arch), kernel::arch_name(arch)));
    if (!k.modules_dir)
        throw std::runtime_error(fmt::format("the default kernel {} has no modules directory", k.bzimage.string()));
    return k;
}

}  // namespace ktstr::vmm::emulated_host
