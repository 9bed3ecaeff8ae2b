// The links of the kernels folder that name a release by a word:
// `default` (the last fetch of the default package), `sched-ext` (the last
// `kernel build`) and the names `kernel build --name` gives. Each is a
// relative symlink to a sibling release directory, replaced by rename, so
// a reader sees the old target or the new one, never none.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::vmm::kernel {

// The release `root/name` points at; nullopt when it is not a link or not
// one of ours (absolute, or reaching outside `root`).
std::optional<std::string> read_cache_link(const std::filesystem::path& root, const std::string& name);

// Points `root/name` at `release`. Callers hold the cache lock, so two
// writers never race on the temporary link. Throws std::runtime_error.
void set_cache_link(const std::filesystem::path& root, const std::string& name, const std::string& release);

// The names of the links in `root` that point at `release`, sorted.
std::vector<std::string> links_to(const std::filesystem::path& root, const std::string& release);

}  // namespace ktstr::vmm::kernel
