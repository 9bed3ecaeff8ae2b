#include "cli/kvm_option.hpp"

#include <cstdio>
#include <map>

#include <fmt/core.h>

#include <chrono>

#include <linux/kvm.h>

#include "kvm/kvm_check.hpp"
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

// Some KVM devices (seen in a sandbox) pass every functional check yet run
// guest code in software, a thousand times slower than hardware: a kernel
// would not boot within any timeout, while the emulated host boots in
// seconds. A short timed loop tells them apart.
std::optional<std::string> too_slow_reason(const std::string& device) {
    constexpr std::uint32_t rounds = 1'000'000;
    constexpr auto limit = std::chrono::milliseconds(100);  // hardware: ~1 ms
    vmm::kvm::KvmCheckOptions o;
    o.device = device;
    o.code = vmm::kvm::speed_program(rounds);
    o.timeout = std::chrono::seconds(2);
    const auto start = std::chrono::steady_clock::now();
    const auto r = vmm::kvm::run_kvm_check(o);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (r.timed_out || r.final_exit != vmm::kvm::check_final_exit)
        return fmt::format("{} did not finish a {}-round loop within {} s: guest code runs in software here, without hardware virtualisation", device,
                           rounds, std::chrono::duration_cast<std::chrono::seconds>(o.timeout).count());
    if (took > limit)
        return fmt::format("{} took {} ms for a {}-round loop that takes about 1 ms with hardware virtualisation",
                           device, took.count(), rounds);
    return std::nullopt;
}

std::optional<std::string> kvm_unusable_reason(const std::string& device) {
    try {
        auto kvm = vmm::kvm::KvmSystem::open(device);
        const int v = kvm.api_version();
        if (v != vmm::kvm::expected_api_version)
            return fmt::format("{}: KVM API version {}, expected {}", device, v, vmm::kvm::expected_api_version);
        // What every run needs beyond a VM: x86's irqchip, arm64's GICv3.
#if defined(__x86_64__)
        (void)kvm.supported_cpuid();
        auto vm = kvm.create_vm();
        vm.create_irqchip();
#else
        auto vm = kvm.create_vm();
        if (!vm.supports_device(KVM_DEV_TYPE_ARM_VGIC_V3))
            return device + ": KVM cannot emulate a GICv3 here (a GICv2-only host)";
#endif
    } catch (const vmm::kvm::KvmError& e) {
        return std::string(e.what());
    }
    try {
        return too_slow_reason(device);
    } catch (const vmm::kvm::KvmError& e) {
        return std::string(e.what());
    }
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
