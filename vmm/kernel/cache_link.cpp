#include "kernel/cache_link.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::kernel {
namespace fs = std::filesystem;

std::optional<std::string> read_cache_link(const fs::path& root, const std::string& name) {
    std::error_code ec;
    const auto target = fs::read_symlink(root / name, ec);
    if (ec || target.empty() || target.has_parent_path() || target.is_absolute())
        return std::nullopt;
    const auto t = target.string();
    if (t == "." || t == ".." || t.starts_with("."))
        return std::nullopt;
    return t;
}

void set_cache_link(const fs::path& root, const std::string& name, const std::string& release) {
    if (read_cache_link(root, name) == release)
        return;
    std::error_code ec;
    const auto temp = root / ("." + name + ".new");
    fs::remove(temp, ec);
    ec.clear();
    fs::create_directory_symlink(release, temp, ec);
    if (!ec)
        fs::rename(temp, root / name, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", (root / name).string(), ec.message()));
}

std::vector<std::string> links_to(const fs::path& root, const std::string& release) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root, ec)) {
        const auto name = e.path().filename().string();
        if (!name.starts_with(".") && e.is_symlink() && read_cache_link(root, name) == release)
            names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace ktstr::vmm::kernel
