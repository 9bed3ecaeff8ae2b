#include "cli/run_scheduler.hpp"

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

#include <fmt/core.h>

#include "kernel/kernel_config.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

std::string kernel_name(const vmm::kernel::KernelImage& k) {
    return k.release.empty() ? k.bzimage.string() : k.release;
}

std::vector<std::string> built_schedulers(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file(ec))
            names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string joined(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names)
        s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? "none" : s;
}

}  // namespace

SchedulerChoice choose_scheduler(const std::string& spec, const vmm::kernel::KernelImage& kernel) {
    if (spec.empty())
        throw std::invalid_argument("--scheduler: empty name");
    if (kernel.config) {
        const auto config = vmm::kernel::KernelConfig::read(*kernel.config);
        if (!config.built_in("CONFIG_SCHED_CLASS_EXT"))
            throw std::invalid_argument(fmt::format(
                "--scheduler {}: kernel {} has no sched_ext (CONFIG_SCHED_CLASS_EXT is not set); build one with "
                "'ktstr-vmm kernel build' and boot it with --kernel sched-ext",
                spec, kernel_name(kernel)));
    }
    SchedulerChoice c;
    if (spec.find('/') == std::string::npos) {
        if (!kernel.schedulers_dir)
            throw std::invalid_argument(fmt::format(
                "--scheduler {}: kernel {} comes without built schedulers; build a kernel with 'ktstr-vmm kernel "
                "build' and boot it with --kernel sched-ext, or name a scheduler program by its path",
                spec, kernel_name(kernel)));
        c.host = *kernel.schedulers_dir / spec;
        std::error_code ec;
        if (!fs::is_regular_file(c.host, ec))
            throw std::invalid_argument(fmt::format("--scheduler {}: not among the schedulers built with kernel {} ({})",
                                                    spec, kernel_name(kernel),
                                                    joined(built_schedulers(*kernel.schedulers_dir))));
    } else {
        c.host = spec;
        std::error_code ec;
        if (!fs::is_regular_file(c.host, ec))
            throw std::invalid_argument(fmt::format("--scheduler {}: no such file", spec));
        if (::access(c.host.c_str(), X_OK) != 0)
            throw std::invalid_argument(fmt::format("--scheduler {}: not executable", spec));
    }
    c.name = c.host.filename().string();
    c.guest_path = (fs::path(scheduler_guest_dir) / c.name).string();
    return c;
}

void add_scheduler(vmm::initramfs::InitramfsSpec& image, const SchedulerChoice& choice,
                   std::span<const std::string> args) {
    image.files.push_back({choice.host, choice.guest_path});
    image.scheduler.assign(1, choice.guest_path);
    image.scheduler.insert(image.scheduler.end(), args.begin(), args.end());
}

}  // namespace ktstr::cli
