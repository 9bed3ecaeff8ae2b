// A minimal kernel module file: an ELF64 relocatable object with a
// .modinfo section and nothing else, for dependency graphs Debian's
// modules do not have (cycles, long chains) and for malformed input.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include <elf.h>

#include <ktstr/common/bytes.hpp>

namespace ktstr::test {

inline byte_buffer synthetic_module(const std::string& modinfo) {
    const std::string shstrtab = std::string("\0.modinfo\0.shstrtab\0", 20);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_REL;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 3;
    eh.e_shstrndx = 2;
    const std::uint64_t info_off = sizeof(Elf64_Ehdr);
    const std::uint64_t names_off = info_off + modinfo.size();
    eh.e_shoff = (names_off + shstrtab.size() + 7) & ~std::uint64_t{7};

    Elf64_Shdr sh[3]{};
    sh[1].sh_name = 1;
    sh[1].sh_type = SHT_PROGBITS;
    sh[1].sh_offset = info_off;
    sh[1].sh_size = modinfo.size();
    sh[2].sh_name = 10;
    sh[2].sh_type = SHT_STRTAB;
    sh[2].sh_offset = names_off;
    sh[2].sh_size = shstrtab.size();

    byte_buffer out(eh.e_shoff + sizeof sh);
    std::memcpy(out.data(), &eh, sizeof eh);
    std::memcpy(out.data() + info_off, modinfo.data(), modinfo.size());
    std::memcpy(out.data() + names_off, shstrtab.data(), shstrtab.size());
    std::memcpy(out.data() + eh.e_shoff, sh, sizeof sh);
    return out;
}

// "name=<name>\0depends=<deps>\0" as the kernel's modpost writes it.
inline std::string modinfo_of(const std::string& name, const std::string& depends) {
    std::string s = "license=GPL";
    s.push_back('\0');
    s += "depends=" + depends;
    s.push_back('\0');
    s += "name=" + name;
    s.push_back('\0');
    return s;
}

}  // namespace ktstr::test
