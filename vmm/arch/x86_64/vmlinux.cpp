#include "arch/x86_64/vmlinux.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <elf.h>
#include <fmt/core.h>

namespace ktstr::vmm::x86_64 {
namespace {

// Elf64_Ehdr and Elf64_Phdr fields by offset: the file is read with
// bounds-checked little-endian loads, never cast to a struct.
constexpr std::size_t ehdr_size = 64;
constexpr std::size_t e_type = 16, e_machine = 18, e_phoff = 32, e_phentsize = 54, e_phnum = 56;
constexpr std::size_t phdr_size = 56;
constexpr std::size_t p_type = 0, p_offset = 8, p_paddr = 24, p_filesz = 32, p_memsz = 40;
constexpr std::uint64_t four_gib = 1ULL << 32;

template <typename T>
T field(byte_view file, std::uint64_t at) {
    if (at > file.size() || file.size() - at < sizeof(T))
        throw VmlinuxError(fmt::format("vmlinux truncated: a field at {:#x} is past its {} bytes", at, file.size()));
    return load_le<T>(file.data() + at);
}

// The bytes [offset, offset + size) of the file, or a VmlinuxError.
byte_view slice(byte_view file, std::uint64_t offset, std::uint64_t size, const char* what) {
    if (offset > file.size() || size > file.size() - offset)
        throw VmlinuxError(fmt::format("vmlinux truncated: {} at {:#x} ({} bytes) is past its {} bytes", what, offset,
                                       size, file.size()));
    return file.subspan(offset, size);
}

std::uint64_t align4(std::uint64_t n) { return (n + 3) & ~std::uint64_t{3}; }

// The PVH entry from one PT_NOTE segment's notes, if it has one.
std::optional<std::uint32_t> pvh_entry_in(byte_view notes) {
    std::uint64_t at = 0;
    // Each note takes at least its 12-byte header: the loop ends with the data.
    while (notes.size() - at >= 12) {
        const auto namesz = load_le<std::uint32_t>(notes.data() + at);
        const auto descsz = load_le<std::uint32_t>(notes.data() + at + 4);
        const auto type = load_le<std::uint32_t>(notes.data() + at + 8);
        const std::uint64_t name_at = at + 12;
        const std::uint64_t desc_at = name_at + align4(namesz);
        const std::uint64_t next = desc_at + align4(descsz);
        if (next > notes.size())
            throw VmlinuxError("vmlinux has a truncated ELF note");
        const byte_view name = notes.subspan(name_at, namesz);
        static constexpr std::array<std::uint8_t, 4> xen{'X', 'e', 'n', 0};
        if (type == Vmlinux::xen_elfnote_phys32_entry && std::ranges::equal(name, xen)) {
            // Linux writes it with _ASM_PTR: 8 bytes on x86_64; 4 elsewhere.
            if (descsz != 4 && descsz != 8)
                throw VmlinuxError(fmt::format("vmlinux PVH entry note has {} bytes, not 4 or 8", descsz));
            const std::uint64_t entry = descsz == 4 ? load_le<std::uint32_t>(notes.data() + desc_at)
                                                    : load_le<std::uint64_t>(notes.data() + desc_at);
            if (entry == 0 || entry >= four_gib)
                throw VmlinuxError(fmt::format("vmlinux PVH entry {:#x} is not a 32-bit address", entry));
            return static_cast<std::uint32_t>(entry);
        }
        at = next;
    }
    return std::nullopt;
}

}  // namespace

bool looks_like_elf(byte_view head) noexcept {
    return head.size() >= SELFMAG && std::equal(head.begin(), head.begin() + SELFMAG, ELFMAG);
}

Vmlinux Vmlinux::parse(byte_buffer file) {
    Vmlinux k = parse_view(file);
    k.owned_ = std::move(file);  // same storage: the views stay valid
    return k;
}

Vmlinux Vmlinux::parse_view(byte_view file) {
    Vmlinux k;
    k.file_ = file;
    if (file.size() < ehdr_size || !looks_like_elf(file))
        throw VmlinuxError("not a vmlinux: no ELF header");
    if (file[EI_CLASS] != ELFCLASS64 || file[EI_DATA] != ELFDATA2LSB)
        throw VmlinuxError("vmlinux is not a 64-bit little-endian ELF file");
    if (field<std::uint16_t>(file, e_machine) != EM_X86_64 || field<std::uint16_t>(file, e_type) != ET_EXEC)
        throw VmlinuxError("vmlinux is not an x86_64 executable (e_machine, e_type)");
    const auto phoff = field<std::uint64_t>(file, e_phoff);
    const auto phentsize = field<std::uint16_t>(file, e_phentsize);
    const auto phnum = field<std::uint16_t>(file, e_phnum);
    if (phentsize < phdr_size)
        throw VmlinuxError(fmt::format("vmlinux program headers are {} bytes, fewer than 56", phentsize));
    (void)slice(file, phoff, std::uint64_t{phnum} * phentsize, "the program header table");

    std::optional<std::uint32_t> entry;
    for (std::uint64_t i = 0; i < phnum; ++i) {
        const std::uint64_t ph = phoff + i * phentsize;
        const auto type = field<std::uint32_t>(file, ph + p_type);
        const auto offset = field<std::uint64_t>(file, ph + p_offset);
        const auto filesz = field<std::uint64_t>(file, ph + p_filesz);
        if (type == PT_NOTE && !entry) {
            entry = pvh_entry_in(slice(file, offset, filesz, "a PT_NOTE segment"));
        } else if (type == PT_LOAD) {
            const auto paddr = field<std::uint64_t>(file, ph + p_paddr);
            const auto memsz = field<std::uint64_t>(file, ph + p_memsz);
            if (memsz < filesz)
                throw VmlinuxError(fmt::format("vmlinux segment at {:#x}: p_memsz below p_filesz", paddr));
            if (paddr >= four_gib || memsz > four_gib - paddr)
                throw VmlinuxError(fmt::format("vmlinux segment at {:#x} ({} bytes) is not below 4 GiB", paddr, memsz));
            if (k.segments_.size() == max_segments)
                throw VmlinuxError(fmt::format("vmlinux has more than {} loadable segments", max_segments));
            k.segments_.push_back({paddr, slice(file, offset, filesz, "a PT_LOAD segment"), memsz});
        }
    }
    if (k.segments_.empty())
        throw VmlinuxError("vmlinux has no loadable segment");
    if (!entry)
        throw VmlinuxError("vmlinux has no PVH entry (no XEN_ELFNOTE_PHYS32_ENTRY note: a kernel without CONFIG_PVH)");
    k.entry_ = *entry;

    std::ranges::sort(k.segments_, {}, &VmlinuxSegment::address);
    for (std::size_t i = 1; i < k.segments_.size(); ++i) {
        const auto& prev = k.segments_[i - 1];
        if (prev.address + prev.memory_size > k.segments_[i].address)
            throw VmlinuxError(fmt::format("vmlinux segments at {:#x} and {:#x} overlap", prev.address,
                                           k.segments_[i].address));
    }
    const auto& last = k.segments_.back();
    k.load_range_ = {k.segments_.front().address, last.address + last.memory_size - k.segments_.front().address};
    if (!k.load_range_.contains(k.entry_))
        throw VmlinuxError(fmt::format("vmlinux PVH entry {:#x} is outside its segments", k.entry_));
    return k;
}

}  // namespace ktstr::vmm::x86_64
