#include "emulated_host/outer_kernel.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;
namespace {

std::string canonical_module_name(std::string s) {
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

// TEMPORARY: until the kernel supply lands, look in the cache layout
// (a dpkg-deb -x tree per version) or KTSTR_OUTER_KERNEL_ROOT.
std::vector<fs::path> candidate_roots() {
    std::vector<fs::path> roots;
    if (const char* r = std::getenv("KTSTR_OUTER_KERNEL_ROOT"))
        roots.emplace_back(r);
    fs::path cache;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
        cache = x;
    else if (const char* h = std::getenv("HOME"))
        cache = fs::path(h) / ".cache";
    std::error_code ec;
    if (!cache.empty())
        for (auto& e : fs::directory_iterator(cache / "ktstr" / "kernels", ec))
            roots.push_back(e.path());
    return roots;
}

}  // namespace

OuterKernel find_outer_kernel() {
    std::error_code ec;
    for (const auto& root : candidate_roots()) {
        for (auto& e : fs::directory_iterator(root / "boot", ec)) {
            const auto name = e.path().filename().string();
            if (!name.starts_with("vmlinuz-"))
                continue;
            const auto release = name.substr(8);
            const auto mods = root / "lib" / "modules" / release;
            if (fs::is_directory(mods, ec))
                return {e.path(), mods};
        }
    }
    throw std::runtime_error("no default kernel for the emulated host; run `ktstr-vmm kernel fetch` first");
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
