#include "cli/run_image.hpp"

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

#include <fmt/core.h>

#include "initramfs/guest_programs.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;
namespace ir = vmm::initramfs;

vmm::initramfs::InitramfsSpec run_image_spec(const vmm::kernel::KernelImage& kernel,
                                             std::span<const std::string> includes,
                                             std::span<const std::string> command) {
    ir::InitramfsSpec spec;
    spec.init = ir::guest_program_for("ktstr-init", kernel.arch);
    spec.programs.push_back(ir::guest_program_for("ktstr-selftest", kernel.arch));
    if (kernel.arch == vmm::kernel::native_arch && ::access(ir::default_busybox, X_OK) != 0)
        throw std::runtime_error(
            fmt::format("{} not found: install Debian's busybox-static", ir::default_busybox));
    spec.busybox = ir::busybox_for(kernel.arch);
    spec.modules_dir = kernel.modules_dir;
    spec.kernel_config = kernel.config;
    // The guest's virtio-mmio console (their dependencies are found by
    // module_order).
    if (kernel.modules_dir)
        for (const char* m : {"virtio_mmio", "virtio_console"})
            spec.modules.push_back({m, ""});
    for (const auto& inc : includes) {
        ir::Placement p;
        try {
            p = ir::parse_placement(inc);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("--include {}", e.what()));
        }
        std::error_code ec;
        if (!fs::exists(p.host, ec))
            throw std::invalid_argument(fmt::format("--include {}: no such file", p.host.string()));
        if (p.guest.empty())
            p.guest = fs::path(include_dir) / p.host.filename();
        spec.files.push_back(std::move(p));
    }
    spec.command.assign(command.begin(), command.end());
    spec.environment = {fmt::format("PATH={}:/bin:/sbin:/usr/bin:/usr/sbin", include_dir), "HOME=/root",
                        "TERM=dumb"};
    return spec;
}

}  // namespace ktstr::cli
