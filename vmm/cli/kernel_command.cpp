// `ktstr-vmm kernel fetch|build|list|path`: the kernel cache.
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/command.hpp"
#include "kernel/cache_link.hpp"
#include "kernel/kernel_supply.hpp"
#include "kernel_build/build_errors.hpp"
#include "kernel_build/build_progress.hpp"
#include "kernel_build/build_record.hpp"
#include "kernel_build/interruption.hpp"
#include "kernel_build/kernel_builder.hpp"

namespace ktstr::cli {
namespace {

namespace kb = vmm::kernel_build;

void warn_missing(const vmm::kernel::KernelImage& k) {
    if (!k.config) {
        fmt::print(stderr, "ktstr-vmm: kernel {}: no config file next to it; cannot check its options\n", k.release);
        return;
    }
    for (const auto& m : vmm::kernel::missing_config(*k.config, true, k.arch))
        fmt::print(stderr, "ktstr-vmm: warning: kernel {} lacks {}\n", k.release, m);
}

std::string phase_times(const std::vector<std::pair<std::string, double>>& seconds) {
    std::string out;
    for (const auto& [phase, s] : seconds)
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", phase, kb::format_duration(s));
    return out;
}

// "(default)", "(sched-ext, mine; key 0123456789ab; 4 schedulers)",
// "(default-arm64; arm64)": the names pointing at a cached kernel, what a
// built one was built from, and the architecture when it is not x86_64.
std::string list_notes(const vmm::kernel::KernelImage& k) {
    const auto root = vmm::kernel::cache_root();
    std::vector<std::string> parts;
    std::string names;
    for (const auto& n : vmm::kernel::links_to(root, k.release))
        names += (names.empty() ? "" : ", ") + n;
    if (!names.empty())
        parts.push_back(names);
    if (auto record = kb::read_build_record(root / k.release))
        parts.push_back("key " + record->key.substr(0, 12));
    if (k.schedulers_dir) {
        std::error_code ec;
        std::size_t count = 0;
        for (const auto& e : std::filesystem::directory_iterator(*k.schedulers_dir, ec))
            count += e.is_regular_file(ec) ? 1 : 0;
        parts.push_back(fmt::format("{} scheduler{}", count, count == 1 ? "" : "s"));
    }
    if (k.arch != vmm::kernel::KernelArch::x86_64)
        parts.emplace_back(vmm::kernel::arch_name(k.arch));
    if (parts.empty())
        return "";
    std::string out;
    for (const auto& p : parts)
        out += (out.empty() ? "" : "; ") + p;
    return "\t(" + out + ")";
}

int run_build(const kb::BuildOptions& options) {
    try {
        const auto r = kb::build_kernel(options);
        if (r.already_built)
            fmt::print(stderr, "ktstr-vmm: {} already built (key {})\n", r.image.release, r.key.substr(0, 12));
        else
            fmt::print(stderr, "ktstr-vmm: built {} (key {}): {}\n", r.image.release, r.key.substr(0, 12),
                       phase_times(r.seconds));
        fmt::print("{}\n", r.image.bzimage.string());
        return 0;
    } catch (const kb::BadBuildInput& e) {
        throw UsageError(e.what());
    } catch (const kb::ConfigRejected& e) {
        for (const auto& line : e.lines)
            fmt::print(stderr, "ktstr-vmm: {}\n", line);
        return exit_usage;
    } catch (const kb::Interrupted& e) {
        fmt::print(stderr, "ktstr-vmm: kernel build interrupted; nothing of it kept\n");
        return 128 + e.signal;
    } catch (const kb::BuildFailed& e) {
        for (const auto& line : e.excerpt)
            fmt::print(stderr, "  {}\n", line);
        fmt::print(stderr, "ktstr-vmm: error: {}; log: {}\n", e.what(), e.log.string());
        return 1;
    }
}

}  // namespace

Command add_kernel_command(CLI::App& root) {
    struct Options {
        std::string package;  // empty: the default package of `arch`
        std::string arch = std::string(vmm::kernel::arch_name(vmm::kernel::native_arch));  // this machine's
        std::string kernel = "default";
        std::string source;
        std::vector<std::string> kconfig;
        unsigned jobs = 0;
        std::string name;
    };
    auto opts = std::make_shared<Options>();
    auto* app = root.add_subcommand("kernel", "Fetch, build and list the kernels ktstr-vmm boots");
    app->require_subcommand(1);
    auto* fetch = app->add_subcommand("fetch", "Download a Debian kernel package into the cache (idempotent)");
    const std::vector<std::string> arches{"x86_64", "arm64"};
    fetch->add_option("package", opts->package,
                      fmt::format("Debian kernel package (metapackage or versioned) [default: {}, or {} with --arch arm64]",
                                  vmm::kernel::default_package,
                                  vmm::kernel::default_package_for(vmm::kernel::KernelArch::arm64)));
    fetch->add_option("--arch", opts->arch, "The kernel's architecture: the package's, and which default link it sets")
        ->check(CLI::IsMember(arches))
        ->capture_default_str();
    auto* build = app->add_subcommand(
        "build", "Build a sched_ext kernel and its schedulers into the cache (idempotent; docs/sched-ext.md)");
    build->add_option("--source", opts->source, "A kernel tree to build (default: Debian's linux-source-6.12)");
    build->add_option("--kconfig", opts->kconfig, "A Kconfig fragment applied after ktstr's (repeatable)")
        ->allow_extra_args(false);
    build->add_option("--jobs,-j", opts->jobs, "Parallel make jobs (default: the CPUs we may use)")
        ->check(CLI::Range(1u, 1024u));
    build->add_option("--name", opts->name, "Also name the result: --kernel NAME boots it");
    auto* list = app->add_subcommand("list", "List the cached kernels");
    auto* path = app->add_subcommand("path", "Print a kernel's bzImage path on the last line (fetching the default)");
    path->add_option("--kernel", opts->kernel, "default, sched-ext, a name, or a bzImage path")->capture_default_str();
    path->add_option("--arch", opts->arch, "Whose default kernel --kernel default means")
        ->check(CLI::IsMember(arches))
        ->capture_default_str();
    app->footer(fmt::format("Cache: {}", vmm::kernel::cache_root().string()));

    return {app, [opts, fetch, build, list, path] {
                const auto arch = *vmm::kernel::arch_from_name(opts->arch);  // IsMember checked it
                if (fetch->parsed()) {
                    auto r = vmm::kernel::fetch(
                        opts->package.empty() ? vmm::kernel::default_package_for(arch) : opts->package, arch);
                    fmt::print(stderr, "ktstr-vmm: {} {}\n", r.package,
                               r.already_cached ? "already in the cache" : "fetched");
                    warn_missing(r.image);
                    fmt::print("{}\n", r.image.bzimage.string());
                } else if (build->parsed()) {
                    kb::BuildOptions b;
                    if (!opts->source.empty())
                        b.source = opts->source;
                    b.kconfig.assign(opts->kconfig.begin(), opts->kconfig.end());
                    b.jobs = opts->jobs;
                    b.name = opts->name;
                    return run_build(b);
                } else if (list->parsed()) {
                    for (const auto& k : vmm::kernel::list_cached())
                        fmt::print("{}\t{}{}\n", k.release, k.bzimage.string(), list_notes(k));
                } else if (path->parsed()) {
                    auto k = vmm::kernel::resolve(opts->kernel, {}, arch);
                    fmt::print("{}\n", k.bzimage.string());
                }
                return 0;
            }};
}

}  // namespace ktstr::cli
