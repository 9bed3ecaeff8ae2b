#include "cli/kvm_option.hpp"

#include <cstdio>
#include <map>

#include <fmt/core.h>

#include "kvm/kvm_error.hpp"
#include "kvm/kvm_system.hpp"

namespace ktstr::cli {

CLI::Option* add_kvm_option(CLI::App& app, KvmMode& mode) {
    static const std::map<std::string, KvmMode> names{
        {"auto", KvmMode::automatic}, {"host", KvmMode::host}, {"emulated", KvmMode::emulated}};
    return app
        .add_option("--kvm", mode,
                    "Where KVM comes from: host (/dev/kvm), emulated (re-run inside a QEMU TCG guest with nested "
                    "KVM), or auto (host when usable, else emulated)")
        ->transform(CLI::CheckedTransformer(names, CLI::ignore_case).description(""))
        ->type_name("auto|host|emulated")
        ->default_str("auto");
}

std::optional<std::string> kvm_unusable_reason(const std::string& device) {
    try {
        auto kvm = vmm::kvm::KvmSystem::open(device);
        const int v = kvm.api_version();
        if (v != vmm::kvm::expected_api_version)
            return fmt::format("{}: KVM API version {}, expected {}", device, v, vmm::kvm::expected_api_version);
        // What every run needs beyond a VM: some KVM devices (seen in
        // sandboxes) create VMs yet refuse these with EINVAL.
        (void)kvm.supported_cpuid();
        auto vm = kvm.create_vm();
        vm.create_irqchip();
    } catch (const vmm::kvm::KvmError& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

KvmPlacement place_kvm(KvmMode mode, std::string_view command, const std::string& device) {
    switch (mode) {
    case KvmMode::host: return KvmPlacement::host;
    case KvmMode::emulated: return KvmPlacement::emulated;
    case KvmMode::automatic: break;
    }
    auto why = kvm_unusable_reason(device);
    if (!why)
        return KvmPlacement::host;
    fmt::print(stderr, "ktstr-vmm {}: no usable KVM here ({}); running inside the emulated KVM host (QEMU TCG, slower)\n",
               command, *why);
    std::fflush(stderr);
    return KvmPlacement::emulated;
}

}  // namespace ktstr::cli
