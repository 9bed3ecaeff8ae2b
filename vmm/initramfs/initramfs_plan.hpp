// An initramfs spec resolved into the exact list of archive entries: every
// library found, every module dependency ordered, every busybox applet
// linked, every conflict between two inputs refused. The plan is what the
// content key hashes and what the writer writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "initramfs/compression.hpp"
#include "initramfs/initramfs_spec.hpp"
#include "initramfs/module_order.hpp"

namespace ktstr::vmm::initramfs {

struct PlanEntry {
    enum class Kind { directory, host_file, data, symlink, char_device };
    Kind kind = Kind::directory;
    std::string path;  // archive path, no leading '/'
    std::uint32_t mode = 0;  // permission bits
    std::filesystem::path host;  // host_file
    bool decompress = false;     // host_file: a compressed module stored decompressed
    // host_file: an ELF program or library stored without its debug
    // sections (stripped_binary.hpp) when the image is written; the plan
    // and its key stay with the file itself.
    bool strip_debug = false;
    std::string data;            // data: contents; symlink: target
    std::uint32_t major = 0, minor = 0;  // char_device
};

struct PlannedModule {
    OrderedModule module;
    std::string guest_path;  // absolute, as listed in /etc/ktstr/modules
    bool compressed = false;  // loaded with MODULE_INIT_COMPRESSED_FILE
};

struct InitramfsPlan {
    std::vector<PlanEntry> entries;
    std::vector<PlannedModule> modules;       // load order
    std::vector<std::string> builtin_modules;  // requested but built into the kernel
    Compression compression = Compression::gzip;
    std::string release;  // of modules_dir, when given
};

// Largest number of entries a plan may hold.
inline constexpr std::size_t max_plan_entries = 200000;

// Throws std::invalid_argument for a bad spec (empty command, relative
// guest path, an image compression the kernel cannot unpack, two inputs
// for one guest path), ModuleError, ElfError, or std::runtime_error for
// an input that cannot be read.
InitramfsPlan plan_initramfs(const InitramfsSpec& spec);

// The plan's content key (content_key.hpp), a hex string.
std::string plan_key(const InitramfsPlan& plan);

}  // namespace ktstr::vmm::initramfs
