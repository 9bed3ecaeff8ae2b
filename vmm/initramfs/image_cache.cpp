#include "initramfs/image_cache.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <unistd.h>

#include <fmt/core.h>

#include "kernel/cache_dir.hpp"

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;

fs::path image_cache_dir() { return kernel::ktstr_cache_dir("initramfs"); }

CachedFile cached_file(const std::string& name, const std::function<void(const fs::path&)>& make) {
    return cached_file(image_cache_dir(), name, make);
}

CachedFile cached_file(const fs::path& dir, const std::string& name, const std::function<void(const fs::path&)>& make) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", dir.string(), ec.message()));
    const auto path = dir / name;
    if (fs::is_regular_file(path, ec)) {
        fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // best effort: LRU order only
        return {path, true};
    }
    const auto temp = dir / fmt::format(".{}.{}.tmp", name, ::getpid());
    struct Remove {
        const fs::path& p;
        bool keep = false;
        ~Remove() {
            std::error_code e;
            if (!keep)
                fs::remove(p, e);
        }
    } guard{temp};
    make(temp);
    fs::rename(temp, path, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", path.string(), ec.message()));
    guard.keep = true;
    return {path, false};
}

void prune_image_cache(std::size_t keep) { prune_cache(image_cache_dir(), keep); }

void prune_cache(const fs::path& dir, std::size_t keep) {
    std::error_code ec;
    std::vector<std::pair<fs::file_time_type, fs::path>> images;
    const auto now = fs::file_time_type::clock::now();
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::error_code e2;
        const auto t = e.last_write_time(e2);
        if (e2 || !e.is_regular_file(e2))
            continue;
        const auto name = e.path().filename().string();
        if (name.starts_with('.')) {
            if (name.ends_with(".tmp") && now - t > std::chrono::hours(1))
                fs::remove(e.path(), e2);
            continue;
        }
        images.emplace_back(t, e.path());
    }
    if (images.size() <= keep)
        return;
    std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = keep; i < images.size(); ++i)
        fs::remove(images[i].second, ec);
}

}  // namespace ktstr::vmm::initramfs
