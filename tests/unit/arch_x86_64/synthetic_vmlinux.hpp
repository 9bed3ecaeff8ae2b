// A minimal well-formed vmlinux for tests: an x86_64 ELF executable with
// PT_LOAD segments at physical addresses and a PT_NOTE holding the PVH
// entry ("Xen", XEN_ELFNOTE_PHYS32_ENTRY), laid out as Linux's is.
#pragma once

#include <cstdint>
#include <vector>

#include <elf.h>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64::test {

struct SyntheticSegment {
    std::uint64_t paddr = 0;
    std::uint64_t filesz = 0;
    std::uint64_t memsz = 0;
};

struct SyntheticVmlinux {
    std::vector<SyntheticSegment> segments{{0x100'0000, 0x3000, 0x5000}, {0x100'5000, 0x1000, 0x1000}};
    std::uint64_t entry = 0x100'0040;
    std::uint32_t entry_bytes = 8;  // 0: no PVH note
    std::size_t trailing = 0;       // bytes after the ELF (the relocation table)
};

inline byte_buffer synthetic_vmlinux(const SyntheticVmlinux& spec = {}) {
    const std::size_t phnum = spec.segments.size() + 1;
    const std::size_t phoff = 64;
    const std::size_t note_at = phoff + phnum * 56;
    const std::size_t note_size = spec.entry_bytes ? 12 + 4 + spec.entry_bytes : 0;
    std::size_t data_at = (note_at + note_size + 0xfff) & ~std::size_t{0xfff};
    std::size_t total = data_at;
    for (const auto& s : spec.segments)
        total += s.filesz;
    byte_buffer f(total + spec.trailing, 0);
    std::copy_n(&ELFMAG[0], SELFMAG, f.begin());
    f[EI_CLASS] = ELFCLASS64;
    f[EI_DATA] = ELFDATA2LSB;
    f[EI_VERSION] = EV_CURRENT;
    store_le(f.data() + 16, std::uint16_t{ET_EXEC});
    store_le(f.data() + 18, std::uint16_t{EM_X86_64});
    store_le(f.data() + 32, std::uint64_t{phoff});
    store_le(f.data() + 52, std::uint16_t{64});
    store_le(f.data() + 54, std::uint16_t{56});
    store_le(f.data() + 56, static_cast<std::uint16_t>(phnum));
    std::size_t ph = phoff;
    std::size_t at = data_at;
    for (const auto& s : spec.segments) {
        store_le(f.data() + ph, std::uint32_t{PT_LOAD});
        store_le(f.data() + ph + 8, std::uint64_t{at});
        store_le(f.data() + ph + 16, 0xffff'ffff'8000'0000ULL + s.paddr);
        store_le(f.data() + ph + 24, s.paddr);
        store_le(f.data() + ph + 32, s.filesz);
        store_le(f.data() + ph + 40, s.memsz);
        for (std::uint64_t i = 0; i < s.filesz; ++i)
            f[at + i] = static_cast<std::uint8_t>((s.paddr >> 12) + i * 13);
        at += s.filesz;
        ph += 56;
    }
    store_le(f.data() + ph, std::uint32_t{PT_NOTE});
    store_le(f.data() + ph + 8, std::uint64_t{note_at});
    store_le(f.data() + ph + 32, std::uint64_t{note_size});
    if (spec.entry_bytes) {
        store_le(f.data() + note_at, std::uint32_t{4});
        store_le(f.data() + note_at + 4, spec.entry_bytes);
        store_le(f.data() + note_at + 8, std::uint32_t{18});
        f[note_at + 12] = 'X';
        f[note_at + 13] = 'e';
        f[note_at + 14] = 'n';
        if (spec.entry_bytes == 8)
            store_le(f.data() + note_at + 16, spec.entry);
        else
            store_le(f.data() + note_at + 16, static_cast<std::uint32_t>(spec.entry));
    }
    return f;
}

}  // namespace ktstr::vmm::x86_64::test
