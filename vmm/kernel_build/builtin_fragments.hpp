// The Kconfig fragments every `kernel build` applies, in order, on top of
// `make tinyconfig`: vmm/kernel/config/lean-vm.config (what a ktstr test
// VM uses and nothing else) and sched-ext.config (what running and
// watching sched_ext schedulers needs). Compiled into ktstr-vmm from those
// files (embed_fragments.cmake), so an installed binary has them.
#pragma once

#include <span>
#include <string_view>

namespace ktstr::vmm::kernel_build {

struct BuiltinFragment {
    std::string_view name;  // "lean-vm.config"
    std::string_view text;  // the file, comments and all
};

std::span<const BuiltinFragment> builtin_fragments();

}  // namespace ktstr::vmm::kernel_build
