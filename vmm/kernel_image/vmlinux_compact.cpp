#include "kernel_image/vmlinux_compact.hpp"

#include <algorithm>
#include <cstdint>

#include <elf.h>

namespace ktstr::vmm::kernel_image {
namespace {

constexpr std::size_t ehdr_size = 64;
constexpr std::size_t phdr_size = 56;
constexpr std::size_t pvh_note_size = 12 + 4 + 8;  // header, "Xen\0", the 8-byte entry

void put_phdr(byte_buffer& out, std::size_t at, std::uint32_t type, std::uint64_t offset, std::uint64_t paddr,
              std::uint64_t filesz, std::uint64_t memsz) {
    store_le(out.data() + at, type);
    store_le(out.data() + at + 4, std::uint32_t{PF_R | PF_W | PF_X});
    store_le(out.data() + at + 8, offset);
    store_le(out.data() + at + 16, paddr);  // p_vaddr: unused by the PVH loader
    store_le(out.data() + at + 24, paddr);
    store_le(out.data() + at + 32, filesz);
    store_le(out.data() + at + 40, memsz);
    store_le(out.data() + at + 48, type == PT_LOAD ? std::uint64_t{4096} : std::uint64_t{4});
}

}  // namespace

byte_buffer compact_vmlinux(const x86_64::Vmlinux& kernel) {
    const auto& segments = kernel.segments();
    const std::size_t phnum = segments.size() + 1;
    std::size_t at = ehdr_size + phnum * phdr_size;
    const std::size_t note_at = at;
    at += pvh_note_size;

    std::vector<std::size_t> kept;
    std::size_t total = at;
    for (const auto& s : segments) {
        const auto last = std::find_if(s.bytes.rbegin(), s.bytes.rend(), [](std::uint8_t b) { return b != 0; });
        kept.push_back(static_cast<std::size_t>(s.bytes.rend() - last));
        total += kept.back();
    }

    byte_buffer out(total, 0);
    std::copy_n(&ELFMAG[0], SELFMAG, out.begin());
    out[EI_CLASS] = ELFCLASS64;
    out[EI_DATA] = ELFDATA2LSB;
    out[EI_VERSION] = EV_CURRENT;
    store_le(out.data() + 16, std::uint16_t{ET_EXEC});
    store_le(out.data() + 18, std::uint16_t{EM_X86_64});
    store_le(out.data() + 20, std::uint32_t{EV_CURRENT});
    store_le(out.data() + 24, std::uint64_t{kernel.pvh_entry()});
    store_le(out.data() + 32, std::uint64_t{ehdr_size});
    store_le(out.data() + 52, std::uint16_t{ehdr_size});
    store_le(out.data() + 54, std::uint16_t{phdr_size});
    store_le(out.data() + 56, static_cast<std::uint16_t>(phnum));

    // The note: "Xen", XEN_ELFNOTE_PHYS32_ENTRY, the entry as 8 bytes.
    store_le(out.data() + note_at, std::uint32_t{4});
    store_le(out.data() + note_at + 4, std::uint32_t{8});
    store_le(out.data() + note_at + 8, x86_64::Vmlinux::xen_elfnote_phys32_entry);
    std::copy_n("Xen", 4, out.begin() + static_cast<std::ptrdiff_t>(note_at + 12));
    store_le(out.data() + note_at + 16, std::uint64_t{kernel.pvh_entry()});

    std::size_t ph = ehdr_size;
    for (std::size_t i = 0; i < segments.size(); ++i, ph += phdr_size) {
        const auto& s = segments[i];
        put_phdr(out, ph, PT_LOAD, at, s.address, kept[i], s.memory_size);
        std::copy_n(s.bytes.begin(), kept[i], out.begin() + static_cast<std::ptrdiff_t>(at));
        at += kept[i];
    }
    put_phdr(out, ph, PT_NOTE, note_at, 0, pvh_note_size, pvh_note_size);
    return out;
}

}  // namespace ktstr::vmm::kernel_image
