// The architecture a kernel is built for: which Debian package the supply
// fetches, which default link names it, which options it must have, and
// what the VMM boots (a bzImage on x86_64, an uncompressed Image on arm64).
#pragma once

#include <optional>
#include <string_view>

namespace ktstr::vmm::kernel {

enum class KernelArch { x86_64, arm64 };

// The architecture this program was built for: the one its KVM runs.
#if defined(__aarch64__)
inline constexpr KernelArch native_arch = KernelArch::arm64;
#else
inline constexpr KernelArch native_arch = KernelArch::x86_64;
#endif

// "x86_64", "arm64": how the CLI and `kernel list` name it.
constexpr std::string_view arch_name(KernelArch a) { return a == KernelArch::arm64 ? "arm64" : "x86_64"; }

// Debian's architecture name, for package names and apt qualifiers.
constexpr std::string_view debian_arch(KernelArch a) { return a == KernelArch::arm64 ? "arm64" : "amd64"; }

// Accepts arch_name()'s, Debian's and the kernel's names (x86_64, amd64,
// arm64, aarch64); nullopt for anything else.
// Every name arch_from_name() accepts, for an option's check.
inline constexpr std::string_view arch_names[] = {"x86_64", "amd64", "arm64", "aarch64"};

constexpr std::optional<KernelArch> arch_from_name(std::string_view s) {
    if (s == "x86_64" || s == "amd64")
        return KernelArch::x86_64;
    if (s == "arm64" || s == "aarch64")
        return KernelArch::arm64;
    return std::nullopt;
}

}  // namespace ktstr::vmm::kernel
