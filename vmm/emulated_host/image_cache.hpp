// The emulated host's cache directory ($XDG_CACHE_HOME/ktstr/emulated-host,
// default ~/.cache/...): outer initramfs images and debug-stripped copies
// of the binaries that go into them, each named by a hash of what it was
// made from, so that a repeated run reuses them and a rebuilt ktstr-vmm
// gets fresh ones.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace ktstr::vmm::emulated_host {

// 64-bit FNV-1a, chained: stable across runs and builds (std::hash is not
// promised to be).
class ContentKey {
public:
    ContentKey& add(std::string_view bytes) noexcept;
    ContentKey& add(std::uint64_t v) noexcept;
    // A file's identity without reading it: path, size, mtime, inode.
    ContentKey& add_file(const std::filesystem::path& path);
    std::string hex() const;

private:
    std::uint64_t h_ = 0xcbf29ce484222325ull;
};

std::filesystem::path emulated_host_cache_dir();

// The cached file `name` in the cache directory, made by `make(temp)` if
// missing: `make` writes `temp`, which is renamed into place, so
// concurrent runs never see a half-written file. Throws what `make`
// throws (std::runtime_error).
std::filesystem::path cached_file(const std::string& name,
                                  const std::function<void(const std::filesystem::path&)>& make);

// Removes all but the `keep` newest files whose names start with `prefix`.
void prune_cache(std::string_view prefix, std::size_t keep);

// `binary` without its debug sections (objcopy --strip-debug), cached; the
// binary itself when objcopy is missing or fails. Debug info is most of a
// RelWithDebInfo ktstr-vmm and costs boot time in the outer guest.
std::filesystem::path stripped_binary(const std::filesystem::path& binary);

}  // namespace ktstr::vmm::emulated_host
