// `ktstr-vmm initramfs`: builds the image ktstr-init boots from
// (docs/kernel-and-initramfs.md), through the image cache.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include <unistd.h>

#include <fmt/core.h>

#include "cli/command.hpp"
#include "initramfs/cpio_writer.hpp"
#include "initramfs/elf_dynamic.hpp"
#include "initramfs/guest_programs.hpp"
#include "initramfs/initramfs_builder.hpp"
#include "initramfs/module_info.hpp"
#include "kernel/kernel_supply.hpp"

namespace ktstr::cli {
namespace {
namespace fs = std::filesystem;
namespace ir = vmm::initramfs;

struct InitramfsOptions {
    std::string output;
    std::string kernel;
    std::string modules;
    std::vector<std::string> module_names;
    std::vector<std::string> includes;
    std::vector<std::string> environment;
    std::string compression = "gzip";
    std::string init;
    std::vector<std::string> command;
};

// Copies the cached image to `out` through a temporary beside it, so `out`
// is never half written.
void copy_out(const fs::path& cached, const fs::path& out) {
    const auto dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
    const auto temp = dir / fmt::format(".{}.{}.tmp", out.filename().string(), ::getpid());
    std::error_code ec;
    fs::copy_file(cached, temp, fs::copy_options::overwrite_existing, ec);
    if (!ec)
        fs::rename(temp, out, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw UsageError(fmt::format("initramfs: -o {}: {}", out.string(), ec.message()));
    }
}

ir::InitramfsSpec make_spec(const InitramfsOptions& o) {
    ir::InitramfsSpec spec;
    const auto c = ir::compression_from_name(o.compression);
    if (!c || *c == ir::Compression::xz)
        throw UsageError(fmt::format("initramfs: --compress {}: use gzip, zstd or none", o.compression));
    spec.compression = *c;

    // A kernel is needed for modules, and checks the compression when given.
    if (!o.kernel.empty() || (!o.module_names.empty() && o.modules.empty())) {
        std::optional<fs::path> modules;
        if (!o.modules.empty())
            modules = o.modules;
        vmm::kernel::KernelImage k;
        try {
            k = vmm::kernel::resolve(o.kernel.empty() ? "default" : o.kernel, modules);
        } catch (const std::exception& e) {
            throw UsageError(fmt::format("initramfs: kernel: {}", e.what()));
        }
        spec.modules_dir = k.modules_dir;
        spec.kernel_config = k.config;
        if (!o.module_names.empty() && !k.modules_dir)
            throw UsageError(fmt::format("initramfs: kernel {} has no modules directory next to it; give --modules DIR",
                                         k.bzimage.string()));
    } else if (!o.modules.empty()) {
        spec.modules_dir = o.modules;
    }
    for (const auto& m : o.module_names) {
        // "NAME" or "NAME PARAMS": parameters after the first blank.
        const auto blank = m.find_first_of(" \t");
        ir::ModuleRequest r{m.substr(0, blank), ""};
        if (blank != std::string::npos) {
            const auto start = m.find_first_not_of(" \t", blank);
            if (start != std::string::npos)
                r.params = m.substr(start);
        }
        spec.modules.push_back(std::move(r));
    }

    try {
        spec.init = o.init.empty() ? ir::guest_program("ktstr-init") : fs::path(o.init);
        spec.programs.push_back(ir::guest_program("ktstr-selftest"));
    } catch (const std::runtime_error& e) {
        throw UsageError(fmt::format("initramfs: {}", e.what()));
    }
    if (::access(ir::default_busybox, X_OK) != 0)
        throw UsageError(fmt::format("initramfs: {} not found: install Debian's busybox-static", ir::default_busybox));
    spec.busybox = ir::default_busybox;
    for (const auto& inc : o.includes) {
        try {
            spec.files.push_back(ir::parse_placement(inc));
        } catch (const std::invalid_argument& e) {
            throw UsageError(fmt::format("initramfs: --include {}", e.what()));
        }
        std::error_code ec;
        if (!fs::exists(spec.files.back().host, ec))
            throw UsageError(fmt::format("initramfs: --include {}: no such file", spec.files.back().host.string()));
    }
    spec.environment = o.environment;
    spec.command = o.command;
    return spec;
}

int run_initramfs(const InitramfsOptions& o) {
    if (o.command.empty())
        throw UsageError("initramfs: no command: give the command ktstr-init runs after --");
    const auto spec = make_spec(o);
    ir::BuiltInitramfs b;
    try {
        b = ir::build_initramfs(spec);
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("initramfs: {}", e.what()));
    } catch (const ir::ModuleError& e) {
        throw UsageError(fmt::format("initramfs: {}", e.what()));
    } catch (const ir::ElfError& e) {
        throw UsageError(fmt::format("initramfs: {}", e.what()));
    } catch (const ir::CpioError& e) {
        throw UsageError(fmt::format("initramfs: {}", e.what()));
    }
    copy_out(b.path, o.output);

    for (const auto& m : b.plan.builtin_modules)
        fmt::print(stderr, "ktstr-vmm: initramfs: module {} is built into kernel {}: nothing to load\n", m,
                   b.plan.release);
    std::string modules;
    for (const auto& m : b.plan.modules)
        modules += fmt::format(" {}{}", m.module.name, m.compressed ? " (compressed)" : "");
    std::error_code ec;
    fmt::print(stderr, "ktstr-vmm: initramfs {} ({}, {} entries, {} bytes) {}{}{}\n", b.key,
               ir::compression_name(b.plan.compression), b.plan.entries.size(), fs::file_size(o.output, ec),
               b.from_cache ? "from the cache" : "built", modules.empty() ? "" : "; modules in load order:", modules);
    fmt::print("{}\n", o.output);
    return 0;
}

}  // namespace

Command add_initramfs_command(CLI::App& root) {
    auto opts = std::make_shared<InitramfsOptions>();
    auto* app = root.add_subcommand(
        "initramfs", "Build an initramfs: ktstr-init as /init, busybox, modules, files, and the command it runs");
    app->add_option("-o,--output", opts->output, "The image file to write")->required();
    app->add_option("--kernel", opts->kernel,
                    "default, or a bzImage path: where modules come from (next to a Debian-style tree)");
    app->add_option("--modules", opts->modules, "The kernel's lib/modules/<release> directory");
    app->add_option("--module", opts->module_names,
                    "A kernel module to load (with its dependencies), by name; 'NAME PARAMS' passes parameters")
        ->type_name("NAME")
        ->allow_extra_args(false);
    app->add_option("--include", opts->includes,
                    "A host file (a dynamic program brings its libraries and loader) or directory, at GUEST or at "
                    "its host path")
        ->type_name("HOST[:GUEST]")
        ->allow_extra_args(false);
    app->add_option("--env", opts->environment, "An environment variable for the command")
        ->type_name("NAME=VALUE")
        ->allow_extra_args(false);
    app->add_option("--compress", opts->compression, "gzip, zstd or none")->capture_default_str();
    app->add_option("--init", opts->init, "Use this program as /init instead of ktstr-init");
    app->add_option("command", opts->command, "The command ktstr-init runs, after --")->type_name("CMD ARGS...");
    app->footer("Prints the image path on the last line. Images are cached under $XDG_CACHE_HOME/ktstr/initramfs.");
    return {app, [opts] { return run_initramfs(*opts); }};
}

}  // namespace ktstr::cli
