// Builds an initramfs image from a spec: plan it (initramfs_plan.hpp),
// name it by its content key, and write it into the image cache unless an
// image with that key is there already.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "initramfs/initramfs_plan.hpp"
#include "initramfs/initramfs_spec.hpp"

namespace ktstr::vmm::initramfs {

struct BuiltInitramfs {
    std::filesystem::path path;  // in the cache: read it, copy it, never write to it
    bool from_cache = false;
    std::string key;
    InitramfsPlan plan;
};

// Throws what plan_initramfs throws, or std::runtime_error when writing
// fails (nothing is left in the cache then).
BuiltInitramfs build_initramfs(const InitramfsSpec& spec);

// Writes the plan's image to `out` (no cache). Throws std::runtime_error,
// CpioError, ModuleError.
void write_initramfs(const InitramfsPlan& plan, const std::filesystem::path& out);

// How many images the cache keeps.
inline constexpr std::size_t cached_images_kept = 16;

}  // namespace ktstr::vmm::initramfs
