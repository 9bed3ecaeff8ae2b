// Kernel modules ktstr-init loads before anything else, listed in the
// initramfs (default /etc/ktstr/modules) in load order: dependencies
// first. One module per line:
//
//     /lib/modules/virtio_console.ko
//     /lib/modules/foo.ko.zst  param1=1 param2=abc
//
// An absolute path ending in .ko, .ko.gz, .ko.xz or .ko.zst, optionally
// followed by whitespace and the module parameters. Compressed modules
// are loaded with MODULE_INIT_COMPRESSED_FILE (the kernel decompresses;
// it needs CONFIG_MODULE_DECOMPRESS). Blank lines and lines starting
// with '#' are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ktstr::init {

struct ModuleEntry {
    std::string path;
    std::string params;
    bool compressed = false;
    int line = 0;  // 1-based, for messages
};

// Throws std::runtime_error "line N: ..." on a malformed line.
std::vector<ModuleEntry> parse_module_list(std::string_view text);

struct ModuleFailure {
    std::string path;
    std::string reason;
};

// Loads each module in order with finit_module. A module already loaded
// (EEXIST) is not a failure. Returns the failures, in order; loading goes
// on after a failure so that every broken module is named.
std::vector<ModuleFailure> load_modules(const std::vector<ModuleEntry>& modules);

}  // namespace ktstr::init
