// What the dynamic loader needs to run an ELF file: its interpreter
// (PT_INTERP), the libraries it names (DT_NEEDED) and where it asks for
// them to be looked up (DT_RUNPATH, DT_RPATH). Read from the program
// headers and the dynamic segment, never by running anything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ktstr::vmm::initramfs {

struct ElfError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ElfDynamic {
    std::uint16_t machine = 0;  // EM_X86_64, EM_AARCH64, ...
    std::string interpreter;    // empty for a static program or a library
    std::vector<std::string> needed;
    std::vector<std::string> runpath;  // DT_RUNPATH split at ':'
    std::vector<std::string> rpath;    // DT_RPATH split at ':'
};

// nullopt for a file that is not a 64-bit little-endian ELF file (a script,
// data: copied as it is). Throws ElfError for an ELF file whose headers,
// dynamic segment or string table lie outside it, or when the file cannot
// be read.
std::optional<ElfDynamic> read_elf_dynamic(const std::filesystem::path& file);

}  // namespace ktstr::vmm::initramfs
