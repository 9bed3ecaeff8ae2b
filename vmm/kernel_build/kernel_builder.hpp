// `ktstr-vmm kernel build`: a kernel for sched_ext tests, built from
// Debian's linux-source package (or a tree the user names) with ktstr's
// lean configuration, and the tree's own sched_ext schedulers beside it,
// into the kernel cache:
//
//   kernels/<release>/boot/{vmlinuz,config,System.map}-<release>
//   kernels/<release>/ktstr/schedulers/{scx_simple,scx_qmap,scx_central,scx_flatcg}
//   kernels/<release>/ktstr/build.json, build.log
//   kernels/sched-ext -> <release>     the last build
//   kernels/<NAME> -> <release>        --name NAME
//
// Steps (phases of the progress line): source (kernel_source.hpp); config
// (`make tinyconfig`, the built-in fragments and the user's appended in
// .config syntax, `make olddefconfig`, then every asked option checked:
// config_survival.hpp); compile and link (`make bzImage` with the key in
// LOCALVERSION and fixed KBUILD_BUILD_* values); schedulers (make in
// tools/sched_ext against the new vmlinux's BTF); install (staged in the
// build folder, renamed into place).
//
// The build folder (kernels/.build-XXXXXX, the object tree, GBs with debug
// info) is removed when the build ends, however it ends; one a killed build
// left is removed by the next build. A failed build's log is kept as
// kernels/.failed/<key>.log. No modules: the lean base leaves MODULES off.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/kernel_supply.hpp"

namespace ktstr::vmm::kernel_build {

inline constexpr const char* scheduler_names[] = {"scx_simple", "scx_qmap", "scx_central", "scx_flatcg"};

struct BuildOptions {
    std::optional<std::filesystem::path> source;  // nullopt: Debian's linux-source package
    std::vector<std::filesystem::path> kconfig;   // the user's fragments, applied in order after ours
    unsigned jobs = 0;                            // make -j; 0: the CPUs we may run on
    std::string name;                             // a link naming the result; "" for none
    std::FILE* progress = stderr;                 // the progress line; null: quiet
};

struct BuildResult {
    kernel::KernelImage image;
    std::string key;
    bool already_built = false;                           // found in the cache, nothing compiled
    std::vector<std::pair<std::string, double>> seconds;  // per phase run, in order
};

// Builds the kernel, or finds it built. Throws BadBuildInput (bad options,
// checked before anything is fetched or built), ConfigRejected (options
// olddefconfig dropped; nothing compiled), BuildFailed (a make failed; its
// log kept), Interrupted (SIGINT or SIGTERM: interruption.hpp) or
// std::runtime_error (tools missing, apt failing, I/O).
BuildResult build_kernel(const BuildOptions& options);

}  // namespace ktstr::vmm::kernel_build
