// Which entry a run boots its kernel through, and the file for it.
//
// PVH (arch/x86_64/vmlinux.hpp) skips the guest's own decompression, so it
// is the default wherever the kernel has it: a bzImage's vmlinux is
// extracted once (vmlinux_extract.hpp) into $XDG_CACHE_HOME/ktstr/vmlinux/,
// keyed by the bzImage file's identity, and reused. A kernel without a PVH
// entry, or with a payload not unpacked here, is booted as the bzImage; the
// reason is remembered beside the cache entries, so it is not unpacked again.
// The bzImage's System.map, where there is one, is linked beside the
// vmlinux as System.map-<its file name>, where kernel::system_map_for()
// finds it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>


namespace ktstr::vmm::kernel_image {

// "auto": PVH where the kernel has it, else the bzImage; "pvh"; "bzimage".
enum class KernelEntry { automatic, pvh, bzimage };

// nullopt for a name not in the list above.
std::optional<KernelEntry> kernel_entry_from_name(std::string_view name) noexcept;
// The inverse: "auto", "pvh" or "bzimage".
std::string_view kernel_entry_name(KernelEntry entry) noexcept;

struct KernelEntryChoice {
    std::filesystem::path path;  // what the VMM loads: the cached vmlinux or the bzImage
    KernelEntry entry = KernelEntry::bzimage;  // pvh or bzimage
    std::string fallback_reason;  // automatic only: why PVH was not taken
};

// The file to boot `kernel` (a bzImage or a vmlinux ELF) through `wanted`.
// Throws std::invalid_argument with a one-line reason when `wanted` cannot
// be had (pvh for a kernel without the entry, bzimage for a vmlinux), and
// std::runtime_error for cache I/O.
KernelEntryChoice choose_kernel_entry(const std::filesystem::path& kernel, KernelEntry wanted);

// The vmlinux cache folder (not created).
std::filesystem::path vmlinux_cache_dir();

}  // namespace ktstr::vmm::kernel_image
