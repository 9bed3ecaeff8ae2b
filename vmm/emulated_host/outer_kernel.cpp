#include "emulated_host/outer_kernel.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>

#include <fmt/core.h>

#include "emulated_host/image_cache.hpp"
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
    // kernel::resolve("default") asks apt-cache which package the default
    // currently is, about a second per call; its answer is remembered here
    // for a day, as long as that kernel stays in the cache.
    const fs::path memo = emulated_host_cache_dir() / "default-kernel";
    std::error_code ec;
    const auto age = fs::file_time_type::clock::now() - fs::last_write_time(memo, ec);
    if (!ec && age < std::chrono::hours(24)) {
        std::ifstream in(memo);
        std::string release;
        if (std::getline(in, release) && !release.empty())
            for (const auto& k : kernel::list_cached())
                if (k.release == release && k.modules_dir)
                    return {k.bzimage, *k.modules_dir};
    }
    const auto k = kernel::resolve("default");
    if (!k.modules_dir)
        throw std::runtime_error(fmt::format("the default kernel {} has no modules directory", k.bzimage.string()));
    cached_file_replace(memo, k.release + "\n");
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
