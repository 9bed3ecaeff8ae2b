#include "kernel_image/kernel_entry.hpp"

#include <fstream>
#include <stdexcept>

#include <fmt/core.h>

#include "arch/x86_64/bzimage.hpp"
#include "arch/x86_64/vmlinux.hpp"
#include "initramfs/content_key.hpp"
#include "initramfs/image_cache.hpp"
#include "kernel/cache_dir.hpp"
#include "kernel/system_map.hpp"
#include "kernel_image/vmlinux_compact.hpp"
#include "kernel_image/vmlinux_extract.hpp"

namespace ktstr::vmm::kernel_image {
namespace {

namespace fs = std::filesystem;
namespace x86 = x86_64;

// vmlinux files kept (about 30 MiB each for Debian's kernel, compacted).
constexpr std::size_t keep_vmlinux_files = 6;
// The key's version: bump when what is stored changes.
constexpr std::string_view key_version = "vmlinux-pvh-3";
constexpr std::size_t max_reason_bytes = 1024;

bool starts_as_elf(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::uint8_t head[4] = {};
    return in.read(reinterpret_cast<char*>(head), sizeof head) && x86::looks_like_elf(head);
}

void write_file(const fs::path& path, byte_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out)
        throw std::runtime_error(fmt::format("{}: cannot write", path.string()));
}

// Best effort, whole or not at all: a refusal not written is found again.
void remember_refusal(const fs::path& path, std::string_view why) {
    const fs::path temp = path.string() + ".tmp";
    try {
        write_file(temp, as_bytes(why));
        fs::rename(temp, path);
    } catch (const std::exception&) {
        std::error_code ec;
        fs::remove(temp, ec);
    }
}

std::string read_reason(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text(max_reason_bytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    // One line of printable text, whatever the file holds.
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            c = ' ';
    return text.empty() ? std::string("no PVH entry (remembered)") : text;
}

// The bzImage's System.map, where the kernel supply finds one, linked
// (hard) beside the vmlinux under the name system_map_for() looks for: a run
// booting the vmlinux (the emulated host's inner run) then still names
// where a hung boot's vCPUs were. Best effort.
void link_system_map(const fs::path& bzimage, const fs::path& vmlinux) {
    const std::string name = bzimage.filename().string();
    const auto map = kernel::system_map_for(bzimage, name.starts_with("vmlinuz-") ? name.substr(8) : name);
    if (!map)
        return;
    std::error_code ec;
    const fs::path link = vmlinux.parent_path() / ("System.map-" + vmlinux.filename().string());
    const fs::path temp = link.string() + ".tmp";
    fs::remove(temp, ec);
    // A hard link (a copy across file systems), not a symbolic one: the
    // emulated host carries it into its guest as a plain file.
    fs::create_hard_link(*map, temp, ec);
    if (ec) {
        ec.clear();
        fs::copy_file(*map, temp, fs::copy_options::overwrite_existing, ec);
    }
    if (!ec)
        fs::rename(temp, link, ec);
    if (ec)
        fs::remove(temp, ec);
}

}  // namespace

std::optional<KernelEntry> kernel_entry_from_name(std::string_view name) noexcept {
    if (name == "auto")
        return KernelEntry::automatic;
    if (name == "pvh")
        return KernelEntry::pvh;
    if (name == "bzimage")
        return KernelEntry::bzimage;
    return std::nullopt;
}

std::string_view kernel_entry_name(KernelEntry entry) noexcept {
    switch (entry) {
    case KernelEntry::automatic: return "auto";
    case KernelEntry::pvh: return "pvh";
    case KernelEntry::bzimage: return "bzimage";
    }
    return "auto";
}

fs::path vmlinux_cache_dir() { return kernel::ktstr_cache_dir("vmlinux"); }

KernelEntryChoice choose_kernel_entry(const fs::path& kernel, KernelEntry wanted) {
    if (starts_as_elf(kernel)) {
        if (wanted == KernelEntry::bzimage)
            throw std::invalid_argument(
                fmt::format("kernel entry bzimage: {} is a vmlinux (ELF), not a bzImage", kernel.string()));
        return {kernel, KernelEntry::pvh, {}};
    }
    if (wanted == KernelEntry::bzimage)
        return {kernel, KernelEntry::bzimage, {}};

    // Keyed by the file's identity (content_key.hpp): a kernel replaced in
    // place gets a new key without being read to find out.
    const std::string key = initramfs::ContentKey().add(key_version).add_file_identity(kernel).hex();
    const fs::path dir = vmlinux_cache_dir();
    const fs::path refused = dir / (key + ".no-pvh");
    std::string why;
    std::error_code ec;
    if (fs::is_regular_file(refused, ec)) {
        why = read_reason(refused);
    } else {
        try {
            const auto cached = initramfs::cached_file(dir, key + ".vmlinux", [&](const fs::path& temp) {
                const x86::Vmlinux v = x86::Vmlinux::parse(extract_vmlinux(x86::BzImage::read(kernel)));
                write_file(temp, compact_vmlinux(v));
            });
            if (!cached.hit)
                initramfs::prune_cache(dir, keep_vmlinux_files);
            link_system_map(kernel, cached.path);
            return {cached.path, KernelEntry::pvh, {}};
        } catch (const x86::BzImageError& e) {
            // Not a bzImage at all: loading it as one reports that.
            why = e.what();
        } catch (const x86::VmlinuxError& e) {
            // The kernel's own answer, the same every time: remembered.
            why = e.what();
            remember_refusal(refused, why);
        } catch (const std::exception& e) {
            // An unpacking that failed, or the cache's I/O (full, read
            // only): not remembered, and auto still boots the bzImage.
            if (wanted == KernelEntry::pvh)
                throw std::invalid_argument(fmt::format("kernel entry pvh: {}: {}", kernel.string(), e.what()));
            why = e.what();
        }
    }
    if (wanted == KernelEntry::pvh)
        throw std::invalid_argument(fmt::format("kernel entry pvh: {}: {}", kernel.string(), why));
    return {kernel, KernelEntry::bzimage, why};
}

}  // namespace ktstr::vmm::kernel_image
