// Boot marks: how a guest tells the host, at the moment it happens, how far
// its boot got, so the host can split a boot's time into the VMM's setup,
// the kernel, init and the command (as Firecracker's boot timer does).
//
// The VMM names a page of guest-physical MMIO space in KTSTR_BOOT_MARK
// (kernel_cmdline_params.hpp); ktstr-init maps it through /dev/mem and
// writes a BootMark as a 32-bit value at offset 0. The write exits to the
// VMM, which notes the host time of each mark's first write. A guest
// without the parameter (another VMM) writes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ktstr {

enum class BootMark : std::uint32_t {
    init_started = 1,  // ktstr-init's first step, its filesystems mounted
};

inline constexpr std::uint32_t boot_mark_count = 1;  // the highest BootMark

namespace cmdline_params {
// KTSTR_BOOT_MARK's address: hexadecimal with or without 0x, non-zero and
// page-aligned (4 KiB). nullopt when missing or malformed.
std::optional<std::uint64_t> parse_boot_mark_address(std::string_view cmdline) noexcept;
}  // namespace cmdline_params

}  // namespace ktstr
