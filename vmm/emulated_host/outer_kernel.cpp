#include "emulated_host/outer_kernel.hpp"

#include <algorithm>
#include <fstream>
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
    // The cached default (no apt involved), fetched when there is none.
    const auto k = kernel::resolve("default");
    if (!k.modules_dir)
        throw std::runtime_error(fmt::format("the default kernel {} has no modules directory", k.bzimage.string()));
    return {k.bzimage, *k.modules_dir};
}

std::vector<std::string> outer_module_names() {
    return {"virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
            "virtio_console", "irqbypass", "kvm", "kvm_amd"};
}

std::optional<fs::path> find_module(const fs::path& modules_dir, const std::string& name) {
    const auto want = canonical_module_name(name);
    auto stem_of = [](std::string file) -> std::optional<std::string> {
        for (const char* ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
            if (file.ends_with(ext))
                return canonical_module_name(file.substr(0, file.size() - std::string_view(ext).size()));
        return std::nullopt;
    };
    // Built into the kernel: nothing to load (6.12's cloud kernel has the
    // virtio core and virtio_console built in, 6.1's has them as modules).
    std::ifstream builtin(modules_dir / "modules.builtin");
    for (std::string line; std::getline(builtin, line);)
        if (stem_of(fs::path(line).filename().string()) == want)
            return std::nullopt;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(modules_dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->is_regular_file() && stem_of(it->path().filename().string()) == want)
            return it->path();
    }
    throw std::runtime_error(fmt::format("module {} not found under {}", name, modules_dir.string()));
}

}  // namespace ktstr::vmm::emulated_host
