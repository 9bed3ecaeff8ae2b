#include "emulated_host/outer_kernel.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

#include "kernel/kernel_supply.hpp"

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;
namespace {

std::string canonical_module_name(std::string s) {
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

}  // namespace

OuterKernel find_outer_kernel() {
    // A cached cloud kernel with modules is what the default kernel is;
    // taking it from the cache skips kernel::resolve("default"), which
    // asks apt-cache for the current package on every call (about a
    // second). Only an empty cache goes through the fetch.
    auto usable = [](const kernel::KernelImage& k) {
        return k.modules_dir && k.release.ends_with("-cloud-amd64");
    };
    const auto cached = kernel::list_cached();
    for (auto it = cached.rbegin(); it != cached.rend(); ++it)
        if (usable(*it))
            return {it->bzimage, *it->modules_dir};
    const auto k = kernel::resolve("default");
    if (!k.modules_dir)
        throw std::runtime_error(fmt::format("the default kernel {} has no modules directory", k.bzimage.string()));
    return {k.bzimage, *k.modules_dir};
}

std::vector<std::string> outer_module_names() {
    return {"virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
            "virtio_console", "irqbypass", "kvm", "kvm_amd"};
}

fs::path find_module(const fs::path& modules_dir, const std::string& name) {
    const auto want = canonical_module_name(name);
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(modules_dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (!it->is_regular_file())
            continue;
        auto file = it->path().filename().string();
        for (const char* ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
            if (file.ends_with(ext) && canonical_module_name(file.substr(0, file.size() - std::string_view(ext).size())) == want)
                return it->path();
        }
    }
    throw std::runtime_error(fmt::format("module {} not found under {}", name, modules_dir.string()));
}

}  // namespace ktstr::vmm::emulated_host
