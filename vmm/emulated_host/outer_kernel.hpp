// The outer guest's kernel: the default kernel (Debian's cloud kernel, as
// `ktstr-vmm kernel fetch` supplies it, fetched if the cache has none) and
// the modules the emulated host loads from its tree.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::vmm::emulated_host {

struct OuterKernel {
    std::filesystem::path bzimage;
    std::filesystem::path modules_dir;  // lib/modules/<release>
};

// Throws std::runtime_error saying how to get one when there is none.
OuterKernel find_outer_kernel();

// The modules that give the outer guest its virtio ports and /dev/kvm, in
// load order (dependencies first). kvm-intel is not among them: TCG's
// "max" CPU is an AMD-style CPU, kvm-intel would refuse it, and ktstr-init
// stops at a module that does not load.
std::vector<std::string> outer_module_names();

// The file of module `name` under `modules_dir` (.ko, .ko.xz, .ko.zst or
// .ko.gz; '-' and '_' are the same), or nullopt when modules.builtin says
// it is built in. Throws std::runtime_error when it is neither.
std::optional<std::filesystem::path> find_module(const std::filesystem::path& modules_dir, const std::string& name);

}  // namespace ktstr::vmm::emulated_host
