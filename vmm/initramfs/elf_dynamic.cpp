#include "initramfs/elf_dynamic.hpp"

#include <cerrno>
#include <cstring>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::initramfs {
namespace {

constexpr std::uint64_t max_dynamic = 1 << 20;   // bytes of PT_DYNAMIC read
constexpr std::uint64_t max_strtab = 16 << 20;   // bytes of DT_STRTAB read
constexpr std::uint64_t max_interp = 4096;

class ElfFile {
public:
    explicit ElfFile(const std::filesystem::path& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
        struct stat st {};
        if (!fd_ || ::fstat(fd_.get(), &st) != 0)
            throw ElfError(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
        if (!S_ISREG(st.st_mode))
            throw ElfError(fmt::format("{}: not a regular file", path.string()));
        size_ = static_cast<std::uint64_t>(st.st_size);
    }

    std::uint64_t size() const noexcept { return size_; }

    // Exactly `n` bytes at `off`, or an ElfError when they are not all in
    // the file.
    std::string read(std::uint64_t off, std::uint64_t n, const char* what) const {
        if (off > size_ || n > size_ - off)
            throw ElfError(fmt::format("{}: {} lies outside the file", path_.string(), what));
        std::string out(static_cast<std::size_t>(n), '\0');
        std::size_t got = 0;
        while (got < out.size()) {
            const ssize_t r = ::pread(fd_.get(), out.data() + got, out.size() - got, static_cast<off_t>(off + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                throw ElfError(fmt::format("{}: read failed", path_.string()));
            got += static_cast<std::size_t>(r);
        }
        return out;
    }

    template <typename T>
    T load(std::uint64_t off, const char* what) const {
        const auto b = read(off, sizeof(T), what);
        T v;
        std::memcpy(&v, b.data(), sizeof v);
        return v;
    }

private:
    std::filesystem::path path_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
};

std::vector<std::string> split_path_list(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const auto colon = s.find(':');
        if (colon != 0)
            out.emplace_back(s.substr(0, colon));
        s.remove_prefix(colon == std::string_view::npos ? s.size() : colon + 1);
    }
    return out;
}

}  // namespace

std::optional<ElfDynamic> read_elf_dynamic(const std::filesystem::path& path) {
    ElfFile f(path);
    if (f.size() < sizeof(Elf64_Ehdr))
        return std::nullopt;
    const auto eh = f.load<Elf64_Ehdr>(0, "ELF header");
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return std::nullopt;
    ElfDynamic d;
    d.machine = eh.e_machine;
    if (eh.e_phnum == 0)
        return d;
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        throw ElfError(fmt::format("{}: unexpected program header size {}", path.string(), eh.e_phentsize));
    const auto table = f.read(eh.e_phoff, std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), "program header table");
    std::vector<Elf64_Phdr> ph(eh.e_phnum);
    std::memcpy(ph.data(), table.data(), table.size());

    const Elf64_Phdr* dynamic = nullptr;
    for (const auto& p : ph) {
        if (p.p_type == PT_INTERP) {
            if (p.p_filesz == 0 || p.p_filesz > max_interp)
                throw ElfError(fmt::format("{}: PT_INTERP of {} bytes", path.string(), p.p_filesz));
            auto s = f.read(p.p_offset, p.p_filesz, "PT_INTERP");
            d.interpreter = s.substr(0, s.find('\0'));
        } else if (p.p_type == PT_DYNAMIC) {
            dynamic = &p;
        }
    }
    if (!dynamic)
        return d;
    if (dynamic->p_filesz > max_dynamic)
        throw ElfError(fmt::format("{}: dynamic segment larger than {} bytes", path.string(), max_dynamic));
    const auto dyn_bytes = f.read(dynamic->p_offset, dynamic->p_filesz, "dynamic segment");
    std::vector<Elf64_Dyn> dyn(dyn_bytes.size() / sizeof(Elf64_Dyn));
    std::memcpy(dyn.data(), dyn_bytes.data(), dyn.size() * sizeof(Elf64_Dyn));

    std::uint64_t strtab_addr = 0, strtab_size = 0;
    std::vector<std::uint64_t> needed;
    std::optional<std::uint64_t> runpath, rpath;
    for (const auto& e : dyn) {
        if (e.d_tag == DT_NULL)
            break;
        switch (e.d_tag) {
        case DT_NEEDED: needed.push_back(e.d_un.d_val); break;
        case DT_STRTAB: strtab_addr = e.d_un.d_ptr; break;
        case DT_STRSZ: strtab_size = e.d_un.d_val; break;
        case DT_RUNPATH: runpath = e.d_un.d_val; break;
        case DT_RPATH: rpath = e.d_un.d_val; break;
        default: break;
        }
    }
    if (needed.empty() && !runpath && !rpath)
        return d;
    if (strtab_size == 0 || strtab_size > max_strtab)
        throw ElfError(fmt::format("{}: string table of {} bytes", path.string(), strtab_size));
    // DT_STRTAB is an address: the PT_LOAD segment holding it gives its
    // place in the file.
    std::optional<std::uint64_t> strtab_off;
    for (const auto& p : ph)
        if (p.p_type == PT_LOAD && strtab_addr >= p.p_vaddr && strtab_addr - p.p_vaddr < p.p_filesz &&
            strtab_size <= p.p_filesz - (strtab_addr - p.p_vaddr))
            strtab_off = p.p_offset + (strtab_addr - p.p_vaddr);
    if (!strtab_off)
        throw ElfError(fmt::format("{}: string table outside every loaded segment", path.string()));
    const auto strtab = f.read(*strtab_off, strtab_size, "string table");
    auto string_at = [&](std::uint64_t off) -> std::string {
        if (off >= strtab.size())
            throw ElfError(fmt::format("{}: dynamic string offset {} outside the string table", path.string(), off));
        const auto end = strtab.find('\0', static_cast<std::size_t>(off));
        if (end == std::string::npos)
            throw ElfError(fmt::format("{}: unterminated dynamic string", path.string()));
        return strtab.substr(static_cast<std::size_t>(off), end - static_cast<std::size_t>(off));
    };
    for (auto off : needed)
        d.needed.push_back(string_at(off));
    if (runpath)
        d.runpath = split_path_list(string_at(*runpath));
    if (rpath)
        d.rpath = split_path_list(string_at(*rpath));
    return d;
}

}  // namespace ktstr::vmm::initramfs
