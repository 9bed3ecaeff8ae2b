#include "initramfs/module_info.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "initramfs/compression.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::initramfs {
namespace {

template <typename T>
T load(byte_view b, std::uint64_t at) {
    T v;
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

bool fits(byte_view b, std::uint64_t at, std::uint64_t size) { return at <= b.size() && size <= b.size() - at; }

}  // namespace

std::string canonical_module_name(std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

ModuleInfo parse_module_info(byte_view elf) {
    if (!fits(elf, 0, sizeof(Elf64_Ehdr)))
        throw ModuleError("too short for an ELF header");
    const auto eh = load<Elf64_Ehdr>(elf, 0);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        throw ModuleError("not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        throw ModuleError("not a 64-bit little-endian ELF file");
    if (eh.e_type != ET_REL)
        throw ModuleError("not a relocatable object (a module is ET_REL)");
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
        !fits(elf, eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)))
        throw ModuleError("section table outside the file");
    if (eh.e_shstrndx >= eh.e_shnum)
        throw ModuleError("bad section name table index");
    auto section = [&](std::uint64_t i) { return load<Elf64_Shdr>(elf, eh.e_shoff + i * sizeof(Elf64_Shdr)); };
    const auto names = section(eh.e_shstrndx);
    if (!fits(elf, names.sh_offset, names.sh_size))
        throw ModuleError("section name table outside the file");
    const std::string_view name_table(reinterpret_cast<const char*>(elf.data() + names.sh_offset), names.sh_size);

    for (std::uint64_t i = 0; i < eh.e_shnum; ++i) {
        const auto s = section(i);
        if (s.sh_name >= name_table.size())
            continue;
        auto nm = name_table.substr(s.sh_name);
        nm = nm.substr(0, nm.find('\0'));
        if (nm != ".modinfo")
            continue;
        if (s.sh_type == SHT_NOBITS || !fits(elf, s.sh_offset, s.sh_size))
            throw ModuleError(".modinfo outside the file");
        std::string_view info(reinterpret_cast<const char*>(elf.data() + s.sh_offset), s.sh_size);
        ModuleInfo m;
        while (!info.empty()) {
            const auto end = info.find('\0');
            const auto entry = info.substr(0, end);
            info.remove_prefix(end == std::string_view::npos ? info.size() : end + 1);
            if (entry.starts_with("name=")) {
                m.name = canonical_module_name(std::string(entry.substr(5)));
            } else if (entry.starts_with("depends=")) {
                auto list = entry.substr(8);
                while (!list.empty()) {
                    const auto comma = list.find(',');
                    const auto dep = list.substr(0, comma);
                    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
                    if (!dep.empty())
                        m.depends.push_back(canonical_module_name(std::string(dep)));
                }
            }
        }
        return m;
    }
    throw ModuleError("no .modinfo section: not a kernel module");
}

byte_buffer read_module_file(const std::filesystem::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0)
        throw ModuleError(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > max_module_size)
        throw ModuleError(fmt::format("{}: not a regular file of at most {} MiB", file.string(), max_module_size >> 20));
    byte_buffer raw(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < raw.size()) {
        const ssize_t n = ::read(fd.get(), raw.data() + got, raw.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw ModuleError(fmt::format("{}: read failed", file.string()));
        got += static_cast<std::size_t>(n);
    }
    const auto c = compression_of_suffix(file.filename().string());
    if (c == Compression::none)
        return raw;
    try {
        return decompress(raw, c, max_module_size);
    } catch (const CompressionError& e) {
        throw ModuleError(fmt::format("{}: {}", file.string(), e.what()));
    }
}

}  // namespace ktstr::vmm::initramfs
