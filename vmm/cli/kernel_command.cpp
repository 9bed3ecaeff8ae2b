// `ktstr-vmm kernel fetch|list|path`: the kernel cache.
#include <fmt/core.h>

#include "cli/command.hpp"
#include "kernel/kernel_supply.hpp"

namespace ktstr::cli {
namespace {

void warn_missing(const vmm::kernel::KernelImage& k) {
    if (!k.config) {
        fmt::print(stderr, "ktstr-vmm: kernel {}: no config file next to it; cannot check its options\n", k.release);
        return;
    }
    for (const auto& m : vmm::kernel::missing_config(*k.config, true))
        fmt::print(stderr, "ktstr-vmm: warning: kernel {} lacks {}\n", k.release, m);
}

}  // namespace

Command add_kernel_command(CLI::App& root) {
    struct Options {
        std::string package = vmm::kernel::default_package;
        std::string kernel = "default";
    };
    auto opts = std::make_shared<Options>();
    auto* app = root.add_subcommand("kernel", "Fetch and list the Debian kernels ktstr-vmm boots");
    app->require_subcommand(1);
    auto* fetch = app->add_subcommand("fetch", "Download a Debian kernel package into the cache (idempotent)");
    fetch->add_option("package", opts->package, "Debian kernel package (metapackage or versioned)")
        ->capture_default_str();
    auto* list = app->add_subcommand("list", "List the cached kernels");
    auto* path = app->add_subcommand("path", "Print a kernel's bzImage path on the last line (fetching the default)");
    path->add_option("--kernel", opts->kernel, "default, or a bzImage path")->capture_default_str();
    app->footer(fmt::format("Cache: {}", vmm::kernel::cache_root().string()));

    return {app, [opts, fetch, list, path] {
                if (fetch->parsed()) {
                    auto r = vmm::kernel::fetch(opts->package);
                    fmt::print(stderr, "ktstr-vmm: {} {}\n", r.package,
                               r.already_cached ? "already in the cache" : "fetched");
                    warn_missing(r.image);
                    fmt::print("{}\n", r.image.bzimage.string());
                } else if (list->parsed()) {
                    const auto def = vmm::kernel::cached_default();
                    for (const auto& k : vmm::kernel::list_cached())
                        fmt::print("{}\t{}{}\n", k.release, k.bzimage.string(),
                                   def && def->release == k.release ? "\t(default)" : "");
                } else if (path->parsed()) {
                    auto k = vmm::kernel::resolve(opts->kernel);
                    fmt::print("{}\n", k.bzimage.string());
                }
                return 0;
            }};
}

}  // namespace ktstr::cli
