#include "machine/boot_files.hpp"

#include <cstdint>
#include <optional>

namespace ktstr::vmm::machine {
namespace {

byte_view view_of(const kvm::MemoryMapping& m) {
    return {static_cast<const std::uint8_t*>(m.data()), m.size()};
}

// `part`'s place in `m`, when it lies inside it.
std::optional<std::size_t> offset_in(const kvm::MemoryMapping& m, byte_view part) {
    const auto base = reinterpret_cast<std::uintptr_t>(m.data());
    const auto at = reinterpret_cast<std::uintptr_t>(part.data());
    if (m.data() == nullptr || at < base || at - base > m.size() || part.size() > m.size() - (at - base))
        return std::nullopt;
    return at - base;
}

BootKernel parse_kernel(byte_view file) {
#if defined(__aarch64__)
    return aarch64::Image::parse_view(file);
#else
    if (x86_64::looks_like_elf(file))
        return x86_64::Vmlinux::parse_view(file);
    return x86_64::BzImage::parse_view(file);
#endif
}

}  // namespace

BootFiles::BootFiles(kvm::MemoryMapping kernel_file, kvm::MemoryMapping initrd_file)
    : kernel_file_(std::move(kernel_file)),
      initrd_file_(std::move(initrd_file)),
      kernel_(parse_kernel(view_of(kernel_file_))),
      initrd_(view_of(initrd_file_)) {}

void BootFiles::drop_resident(byte_view part) const noexcept {
    for (const auto* m : {&kernel_file_, &initrd_file_})
        if (auto offset = offset_in(*m, part))
            m->drop_resident(*offset, part.size());
}

}  // namespace ktstr::vmm::machine
