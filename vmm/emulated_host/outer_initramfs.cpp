#include "emulated_host/outer_initramfs.hpp"

#include "emulated_host/guest_side.hpp"
#include "initramfs/stripped_binary.hpp"
#include "initramfs/guest_programs.hpp"
#include "initramfs/initramfs_builder.hpp"

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;

fs::path staged_path(const fs::path& host) {
    return fs::path(host_files_root) / host.relative_path();
}

std::vector<std::string> outer_module_names(kernel::KernelArch arch) {
    if (arch == kernel::KernelArch::arm64)
        return {"virtio_mmio", "virtio_console"};
    return {"virtio_pci", "virtio_console", "kvm_amd"};
}

OuterInitramfs build_outer_initramfs(const OuterInitramfsSpec& spec) {
    initramfs::InitramfsSpec s;
    s.init = initramfs::stripped_binary(initramfs::guest_program_for("ktstr-init", spec.arch));
    s.files.push_back({initramfs::stripped_binary(spec.ktstr_vmm), staged_path(spec.ktstr_vmm)});
    for (const auto& p : spec.programs)
        s.files.push_back({initramfs::stripped_binary(p), staged_path(p)});
    for (const auto& f : spec.inputs)
        s.files.push_back({f, staged_path(f)});
    s.modules_dir = spec.modules_dir;
    s.kernel_config = spec.kernel_config;
    for (const auto& m : outer_module_names(spec.arch))
        s.modules.push_back({m, ""});
    s.command = spec.command;
    s.environment = spec.environment;
    // Uncompressed: the outer kernel would decompress with emulated
    // instructions, which costs more than reading a larger file.
    s.compression = initramfs::Compression::none;

    const auto built = initramfs::build_initramfs(s);
    OuterInitramfs out;
    out.path = built.path;
    out.from_cache = built.from_cache;
    std::error_code ec;
    out.image_bytes = fs::file_size(built.path, ec);
    return out;
}

}  // namespace ktstr::vmm::emulated_host
