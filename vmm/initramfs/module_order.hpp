// Kernel modules to load, with everything they depend on, in load order
// (dependencies first, each module once), from the modules' own
// "depends=" (module_info.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "initramfs/module_tree.hpp"

namespace ktstr::vmm::initramfs {

struct ModuleRequest {
    std::string module;  // a name ("kvm-amd"), or a path to a module file (contains '/')
    std::string params;  // "nested=1", passed to finit_module
};

struct OrderedModule {
    std::string name;  // canonical
    std::filesystem::path file;
    std::string params;
};

struct ModuleOrder {
    std::vector<OrderedModule> load_order;
    std::vector<std::string> builtin;  // requested or needed, but built into the kernel: nothing to load
};

// Longest dependency chain followed (Linux's are a handful deep).
inline constexpr std::size_t max_module_depth = 64;

// Throws ModuleError naming the module: not in the tree, unreadable, a
// dependency cycle, a chain deeper than max_module_depth, or one module
// requested twice with different parameters. `tree` may be null when
// every request is a path and none has dependencies.
ModuleOrder order_modules(const ModuleTree* tree, const std::vector<ModuleRequest>& requests);

}  // namespace ktstr::vmm::initramfs
