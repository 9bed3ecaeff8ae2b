// An uncompressed x86_64 kernel (an ELF vmlinux) entered through its PVH
// entry point: the kernel starts in 32-bit protected mode with paging off
// and reads the boot facts from an hvm_start_info (pvh_start_info.hpp), so
// nothing in the guest decompresses it first. QEMU and Firecracker boot
// Linux the same way; Linux has the entry with CONFIG_PVH (Debian's do).
//
// What is read: the ELF header (ELFCLASS64, little-endian, EM_X86_64,
// ET_EXEC), the PT_LOAD segments by their physical addresses, and the ELF
// note ("Xen", XEN_ELFNOTE_PHYS32_ENTRY = 18) that gives the entry's
// physical address. The file may carry more after the ELF (the bzImage's
// payload appends the kernel's relocation table): it is ignored. Every
// offset and size is bounded against the file, segments may not overlap,
// and their addresses must lie below 4 GiB, where a 32-bit entry can reach.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <ktstr/common/bytes.hpp>

#include "memory/memory_map.hpp"

namespace ktstr::vmm::x86_64 {

// A file that is not a vmlinux we can enter through PVH; a one-line message.
struct VmlinuxError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct VmlinuxSegment {
    std::uint64_t address = 0;  // guest-physical (p_paddr)
    byte_view bytes;            // p_filesz bytes of the file
    std::uint64_t memory_size = 0;  // p_memsz: the rest up to it is zeros (.bss)
};

class Vmlinux {
public:
    // Parses the whole file, which the object then owns (the segments
    // point into it). Throws VmlinuxError.
    static Vmlinux parse(byte_buffer file);
    // The same over bytes the caller keeps, unchanged, for as long as the
    // Vmlinux lives (a read-only mapping of the file: no copy of it).
    static Vmlinux parse_view(byte_view file);
    // The largest file the VMM maps as a kernel (machine/boot_files.hpp).
    static constexpr std::uint64_t max_file_size = 1ULL << 30;

    static constexpr std::size_t max_segments = 16;
    static constexpr std::uint32_t xen_elfnote_phys32_entry = 18;

    const std::vector<VmlinuxSegment>& segments() const noexcept { return segments_; }
    // The whole file as parsed.
    byte_view file() const noexcept { return file_; }
    // The 32-bit physical entry (pvh_start_xen).
    std::uint32_t pvh_entry() const noexcept { return entry_; }
    // [lowest segment address, highest segment end incl. .bss): RAM the
    // kernel takes; nothing else may be loaded there.
    GuestRange load_range() const noexcept { return load_range_; }

    // Moving keeps the segment views valid (the buffer moves with them);
    // a copy would not.
    Vmlinux(Vmlinux&&) noexcept = default;
    Vmlinux& operator=(Vmlinux&&) noexcept = default;
    Vmlinux(const Vmlinux&) = delete;
    Vmlinux& operator=(const Vmlinux&) = delete;

private:
    Vmlinux() = default;
    byte_buffer owned_;  // parse(): the file; parse_view(): empty
    byte_view file_;
    std::vector<VmlinuxSegment> segments_;
    std::uint32_t entry_ = 0;
    GuestRange load_range_;
};

// True when the bytes start with the ELF magic: a vmlinux rather than a
// bzImage, for callers that accept either.
bool looks_like_elf(byte_view head) noexcept;

}  // namespace ktstr::vmm::x86_64
