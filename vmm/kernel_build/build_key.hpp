// What names a built kernel, and what finds it again before configuring.
//
// The key is SHA-256 over the source's identity and the final .config:
// two builds with one key built the same kernel from the same tree, so the
// second is a cache hit. The release, and with it the cache directory, is
// made unique per key through LOCALVERSION ("6.12.118-ktstr-<key12>").
//
// Computing the key takes `make tinyconfig` and `olddefconfig` (about 20 s
// here), so each build also records its recipe: SHA-256 over what the user
// asked for (the source identity, the fragments in .config syntax, in
// order) and the versions of the tools that shape the configuration
// (gcc, ld, pahole, clang). A later build with the same recipe is a cache
// hit without configuring at all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ktstr::vmm::kernel_build {

// Bumped when how a kernel is built changes (make variables, scheduler
// build, layout), so no older build is taken for a newer one.
inline constexpr std::string_view build_procedure = "ktstr kernel build 1";

// The .config without its generated comment lines (the header, the menu
// titles) and blank lines; "# CONFIG_X is not set" lines stay.
std::string config_for_key(std::string_view config);

// 64 hex digits.
std::string build_key(std::string_view source_identity, std::string_view final_config);

// "-ktstr-" and the key's first 12 hex digits: the LOCALVERSION of a build.
std::string local_version(std::string_view key);

// 64 hex digits.
std::string recipe_key(std::string_view source_identity, const std::vector<std::string>& normalised_fragments,
                       std::string_view toolchain);

}  // namespace ktstr::vmm::kernel_build
