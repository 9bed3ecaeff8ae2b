// Which host files the inner command needs inside the emulated host: every
// argument that names an existing regular file goes into the outer
// initramfs at the same absolute path, so the command line works unchanged
// (the guest side also enters the same working directory, so relative
// paths resolve the same way).
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace ktstr::vmm::emulated_host {

// `path` made absolute against `cwd` and lexically normalised.
std::filesystem::path absolute_from(const std::filesystem::path& path, const std::filesystem::path& cwd);

// The regular files named by `arguments` (a whole argument, or the value
// of an "--option=value" argument), absolute and normalised, without
// duplicates and without any of `outputs` (an output that exists already
// is about to be overwritten, not read). Paths under /proc, /sys and /dev
// are never files to copy.
std::vector<std::filesystem::path> files_named_by(std::span<const std::string> arguments,
                                                  const std::vector<std::filesystem::path>& outputs,
                                                  const std::filesystem::path& cwd);

}  // namespace ktstr::vmm::emulated_host
