// A vmlinux cut down to what the PVH entry loads: the ELF header, its
// PT_LOAD segments and the PT_NOTE holding the entry, packed one after the
// other, each segment without its trailing zero bytes (p_filesz lowered,
// p_memsz kept: the loader leaves guest RAM zero there, as for .bss).
// Section headers, the appended relocation table (PVH does not relocate)
// and the alignment padding go. The bzImage's vmlinux of Debian's 6.1
// kernel has 13 MiB of .bss and .brk stored as zeros: all of that is
// bytes the VMM would otherwise copy, and the emulated host would carry
// into its guest, on every boot.
#pragma once

#include <ktstr/common/bytes.hpp>

#include "arch/x86_64/vmlinux.hpp"

namespace ktstr::vmm::kernel_image {

// The compact file for `kernel`; Vmlinux::parse of it gives the same
// entry, the same segment addresses and sizes, and the same bytes up to
// each segment's last non-zero byte.
byte_buffer compact_vmlinux(const x86_64::Vmlinux& kernel);

}  // namespace ktstr::vmm::kernel_image
