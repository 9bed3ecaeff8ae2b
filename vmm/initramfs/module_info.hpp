// What a kernel module says about itself: the ".modinfo" ELF section of a
// .ko, a run of NUL-separated "key=value" strings. "name=" is the module's
// name and "depends=a,b" the modules it needs loaded first; Debian's kernel
// packages ship no modules.dep, so this is how dependencies are found
// without depmod.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::initramfs {

struct ModuleError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ModuleInfo {
    std::string name;                  // canonical ('_', never '-'); empty if the module has no name=
    std::vector<std::string> depends;  // canonical names
};

// Largest module we read after decompression (the biggest Debian module is
// a few MiB; this only stops a hostile file from filling memory).
inline constexpr std::uint64_t max_module_size = std::uint64_t{256} << 20;

// Parses an uncompressed module. Throws ModuleError for a file that is not
// a 64-bit little-endian ELF relocatable object, whose section table or
// .modinfo lies outside it, or that has no .modinfo.
ModuleInfo parse_module_info(byte_view elf);

// The bytes of a module file, decompressed when its name ends in .gz, .xz
// or .zst. Throws ModuleError (unreadable, too large, corrupt).
byte_buffer read_module_file(const std::filesystem::path& file);

// "kvm-amd" -> "kvm_amd", as modprobe treats them the same.
std::string canonical_module_name(std::string name);

}  // namespace ktstr::vmm::initramfs
