// KASLR physical displacement from /proc/iomem, the start of the
// "Kernel code" resource compared with where the kernel loads without
// KASLR:
//  - x86_64: phys_base = Kernel code start - 0x1000000 (LOAD_PHYSICAL_ADDR);
//  - aarch64: phys_base = Kernel code start - first System RAM start
//    (TEXT_OFFSET is 0 since Linux 5.8).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ktstr::guest {

enum class Arch { x86_64, aarch64 };

// The architecture this library was built for.
Arch native_arch() noexcept;

// nullopt when a needed line is missing or malformed.
std::optional<std::uint64_t> phys_base_from_iomem(std::string_view iomem, Arch arch) noexcept;

// Reads paths().iomem (at most 1 MiB) for the native architecture.
std::optional<std::uint64_t> read_phys_base();

}  // namespace ktstr::guest
