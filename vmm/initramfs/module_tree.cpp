#include "initramfs/module_tree.hpp"

#include <fstream>

#include <fmt/core.h>

#include "initramfs/module_info.hpp"

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t max_modules = 65536;

}  // namespace

std::optional<std::string> module_name_of_file(const std::string& file_name) {
    std::string_view n = file_name;
    for (std::string_view suffix : {".gz", ".xz", ".zst"})
        if (n.ends_with(suffix)) {
            n.remove_suffix(suffix.size());
            break;
        }
    if (!n.ends_with(".ko") || n.size() == 3)
        return std::nullopt;
    n.remove_suffix(3);
    return canonical_module_name(std::string(n));
}

ModuleTree::ModuleTree(fs::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec))
        throw ModuleError(fmt::format("modules {}: not a directory", dir_.string()));
    fs::recursive_directory_iterator it(dir_, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec))
            continue;
        auto name = module_name_of_file(it->path().filename().string());
        if (!name)
            continue;
        if (files_.size() == max_modules)
            throw ModuleError(fmt::format("modules {}: more than {} modules", dir_.string(), max_modules));
        // Two files for one name (a stray uncompressed copy beside the
        // packaged one): keep the first in path order, deterministically.
        auto [pos, inserted] = files_.emplace(*name, it->path());
        if (!inserted && it->path() < pos->second)
            pos->second = it->path();
    }
    if (ec)
        throw ModuleError(fmt::format("modules {}: {}", dir_.string(), ec.message()));
    // modules.builtin: one "kernel/.../name.ko" per line.
    std::ifstream in(dir_ / "modules.builtin");
    std::string line;
    while (std::getline(in, line) && builtin_.size() < max_modules)
        if (auto name = module_name_of_file(fs::path(line).filename().string()))
            builtin_.insert(*name);
}

std::optional<fs::path> ModuleTree::find(const std::string& name) const {
    auto it = files_.find(canonical_module_name(name));
    if (it == files_.end())
        return std::nullopt;
    return it->second;
}

bool ModuleTree::is_builtin(const std::string& name) const { return builtin_.contains(canonical_module_name(name)); }

}  // namespace ktstr::vmm::initramfs
