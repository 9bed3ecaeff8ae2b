// The initramfs image cache: $XDG_CACHE_HOME/ktstr/initramfs/ (default
// ~/.cache/ktstr/initramfs/), one file per content key. A file appears
// whole or not at all (written beside, then renamed), so concurrent
// builders never see half an image; the least recently used are pruned.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

namespace ktstr::vmm::initramfs {

// Throws std::runtime_error when neither XDG_CACHE_HOME nor HOME is set.
std::filesystem::path image_cache_dir();

struct CachedFile {
    std::filesystem::path path;
    bool hit = false;  // found, not made
};

// The file `name` in the cache, made by `make(temp)` when missing. A hit
// is marked as used (its mtime) for pruning. Throws what `make` throws,
// or std::runtime_error for cache I/O; a failed make leaves nothing.
CachedFile cached_file(const std::string& name, const std::function<void(const std::filesystem::path&)>& make);
// The same in another cache folder (made if missing): the vmlinux cache.
CachedFile cached_file(const std::filesystem::path& dir, const std::string& name,
                       const std::function<void(const std::filesystem::path&)>& make);

// Keeps the `keep` most recently used images, removes the rest (and
// temporary files older than an hour, left by killed builders).
void prune_image_cache(std::size_t keep);
// The same in another cache folder.
void prune_cache(const std::filesystem::path& dir, std::size_t keep);

}  // namespace ktstr::vmm::initramfs
