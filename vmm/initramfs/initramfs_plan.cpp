#include "initramfs/initramfs_plan.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

#include <sys/stat.h>

#include <fmt/core.h>

#include "initramfs/content_key.hpp"
#include "initramfs/cpio_writer.hpp"
#include "initramfs/guest_programs.hpp"
#include "initramfs/library_closure.hpp"
#include "initramfs/module_info.hpp"
#include "initramfs/module_tree.hpp"
#include "kernel/kernel_config.hpp"

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;
namespace {

// An ELF file with sections (a static program has no runtime files but is
// stripped too). One without a section header table, like the compact
// vmlinux the PVH entry boots, has no debug sections to strip: objcopy
// would refuse it.
bool is_elf_with_sections(const fs::path& path) {
    unsigned char head[64] = {};
    std::ifstream f(path, std::ios::binary);
    if (!f.read(reinterpret_cast<char*>(head), sizeof head) || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' ||
        head[3] != 'F')
        return false;
    // e_shnum: offset 48 in a 32-bit header, 60 in a 64-bit one.
    const std::size_t at = head[4] == 2 ? 60 : 48;
    return (head[at] | head[at + 1]) != 0;
}

// ktstr-init's bounds on the recorded files (docs/guest.md): refuse here
// what it would refuse at boot.
constexpr std::size_t max_recorded_bytes = 1 << 20;
constexpr std::size_t max_recorded_entries = 4096;
constexpr std::size_t max_recorded_entry = 128 * 1024;
constexpr int max_tree_depth = 64;

std::string nul_list(const std::vector<std::string>& items, const char* what) {
    if (items.size() > max_recorded_entries)
        throw std::invalid_argument(fmt::format("{}: more than {} entries", what, max_recorded_entries));
    std::string out;
    for (const auto& s : items) {
        if (s.find('\0') != std::string::npos)
            throw std::invalid_argument(fmt::format("{}: an entry holds a NUL byte", what));
        if (s.size() > max_recorded_entry)
            throw std::invalid_argument(fmt::format("{}: an entry is longer than {} bytes", what, max_recorded_entry));
        out += s;
        out.push_back('\0');
    }
    if (out.size() > max_recorded_bytes)
        throw std::invalid_argument(fmt::format("{}: more than {} bytes", what, max_recorded_bytes));
    return out;
}

std::string describe(const PlanEntry& e) {
    switch (e.kind) {
    case PlanEntry::Kind::host_file: return e.host.string();
    case PlanEntry::Kind::directory: return "a directory";
    case PlanEntry::Kind::symlink: return "a symlink to " + e.data;
    case PlanEntry::Kind::char_device: return "a device";
    case PlanEntry::Kind::data: return "generated data";
    }
    return "?";
}

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return fs::equivalent(a, b, ec) && !ec;
}

const char* decompress_option(Compression c) {
    switch (c) {
    case Compression::gzip: return "CONFIG_MODULE_COMPRESS_GZIP";
    case Compression::xz: return "CONFIG_MODULE_COMPRESS_XZ";
    case Compression::zstd: return "CONFIG_MODULE_COMPRESS_ZSTD";
    case Compression::none: break;
    }
    return "";
}

class Planner {
public:
    InitramfsPlan plan;

    void directory(std::string_view guest, std::uint32_t mode = 0755) {
        PlanEntry e;
        e.kind = PlanEntry::Kind::directory;
        e.path = CpioWriter::normalize(guest);
        e.mode = mode;
        add(std::move(e));
    }

    void host_file(std::string_view guest, const fs::path& host, bool decompress = false,
                   std::optional<std::uint32_t> mode = {}, bool strip_debug = false) {
        struct stat st {};
        if (::stat(host.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            throw std::runtime_error(fmt::format("{}: not a readable regular file", host.string()));
        PlanEntry e;
        e.kind = PlanEntry::Kind::host_file;
        e.path = CpioWriter::normalize(guest);
        e.host = host;
        e.decompress = decompress;
        e.strip_debug = strip_debug;
        e.mode = mode ? *mode : st.st_mode & 07777;
        add(std::move(e));
    }

    void data(std::string_view guest, std::string bytes, std::uint32_t mode = 0644) {
        PlanEntry e;
        e.kind = PlanEntry::Kind::data;
        e.path = CpioWriter::normalize(guest);
        e.data = std::move(bytes);
        e.mode = mode;
        add(std::move(e));
    }

    void symlink(std::string_view guest, std::string target) {
        PlanEntry e;
        e.kind = PlanEntry::Kind::symlink;
        e.path = CpioWriter::normalize(guest);
        e.data = std::move(target);
        e.mode = 0777;
        add(std::move(e));
    }

    void char_device(std::string_view guest, std::uint32_t major, std::uint32_t minor, std::uint32_t mode) {
        PlanEntry e;
        e.kind = PlanEntry::Kind::char_device;
        e.path = CpioWriter::normalize(guest);
        e.major = major;
        e.minor = minor;
        e.mode = mode;
        add(std::move(e));
    }

    bool taken(std::string_view guest) const { return index_.contains(CpioWriter::normalize(guest)); }

    // A file, with its loader and libraries when it is a dynamic ELF program.
    // A file, with its loader and libraries when it is a dynamic program;
    // programs and libraries without their debug sections.
    void program(const fs::path& host, const fs::path& guest) {
        const auto files = runtime_files(host, guest, search_);
        host_file(guest.string(), host, false, {}, !files.empty() || is_elf_with_sections(host));
        for (const auto& f : files)
            host_file(f.guest.string(), f.host, false, {}, true);
    }

    // A host directory tree: directories, regular files and symlinks (kept
    // as symlinks), in name order so the archive does not depend on the
    // order the host file system lists them in.
    void tree(const fs::path& host, const fs::path& guest, int depth = 0) {
        if (depth > max_tree_depth)
            throw std::invalid_argument(fmt::format("{}: deeper than {} levels", host.string(), max_tree_depth));
        struct stat st {};
        if (::stat(host.c_str(), &st) != 0)
            throw std::runtime_error(fmt::format("{}: cannot read", host.string()));
        directory(guest.string(), st.st_mode & 07777);
        std::vector<fs::directory_entry> children;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(host, ec)) {
            children.push_back(e);
            if (children.size() > max_plan_entries)
                throw std::invalid_argument(fmt::format("{}: more than {} entries", host.string(), max_plan_entries));
        }
        if (ec)
            throw std::runtime_error(fmt::format("{}: {}", host.string(), ec.message()));
        std::sort(children.begin(), children.end(),
                  [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
        for (const auto& c : children) {
            const auto g = guest / c.path().filename();
            if (c.is_symlink(ec))
                symlink(g.string(), fs::read_symlink(c.path()).string());
            else if (c.is_directory(ec))
                tree(c.path(), g, depth + 1);
            else if (c.is_regular_file(ec))
                host_file(g.string(), c.path());
            // sockets, FIFOs, devices: not something an image carries.
        }
    }

private:
    void add(PlanEntry e) {
        // Parents as directories first.
        for (auto slash = e.path.find('/'); slash != std::string::npos; slash = e.path.find('/', slash + 1)) {
            const auto parent = e.path.substr(0, slash);
            auto it = index_.find(parent);
            if (it == index_.end()) {
                PlanEntry d;
                d.kind = PlanEntry::Kind::directory;
                d.path = parent;
                d.mode = 0755;
                put(std::move(d));
            } else if (plan.entries[it->second].kind != PlanEntry::Kind::directory) {
                throw std::invalid_argument(fmt::format("/{}: /{} is {}, not a directory", e.path, parent,
                                                        describe(plan.entries[it->second])));
            }
        }
        if (auto it = index_.find(e.path); it != index_.end()) {
            const auto& old = plan.entries[it->second];
            const bool same = old.kind == e.kind && old.data == e.data && old.decompress == e.decompress &&
                              (old.kind != PlanEntry::Kind::host_file || same_file(old.host, e.host));
            if (same)
                return;  // a library two programs share, a directory given twice
            throw std::invalid_argument(
                fmt::format("/{} given twice: {} and {}", e.path, describe(old), describe(e)));
        }
        put(std::move(e));
    }

    void put(PlanEntry e) {
        if (plan.entries.size() >= max_plan_entries)
            throw std::invalid_argument(fmt::format("more than {} files in the image", max_plan_entries));
        index_.emplace(e.path, plan.entries.size());
        plan.entries.push_back(std::move(e));
    }

    std::map<std::string, std::size_t> index_;
    LibrarySearch search_ = LibrarySearch::host();
};

void plan_modules(const InitramfsSpec& spec, Planner& p) {
    std::optional<ModuleTree> tree;
    if (spec.modules_dir)
        tree.emplace(*spec.modules_dir);
    else if (std::any_of(spec.modules.begin(), spec.modules.end(),
                         [](const auto& r) { return r.module.find('/') == std::string::npos; }))
        throw std::invalid_argument("modules named without a modules directory (give a kernel or --modules DIR)");
    std::optional<kernel::KernelConfig> config;
    if (spec.kernel_config)
        config = kernel::KernelConfig::read(*spec.kernel_config);

    auto order = order_modules(tree ? &*tree : nullptr, spec.modules);
    p.plan.builtin_modules = order.builtin;
    p.plan.release = tree ? tree->release() : "ktstr";
    const fs::path base = fs::path("/lib/modules") / p.plan.release;
    std::string list;
    for (auto& m : order.load_order) {
        if (m.params.find('\n') != std::string::npos || m.params.find('\0') != std::string::npos)
            throw std::invalid_argument(fmt::format("module {}: parameters hold a newline", m.name));
        const auto c = compression_of_suffix(m.file.filename().string());
        const bool keep = c != Compression::none && config && config->built_in("CONFIG_MODULE_DECOMPRESS") &&
                          config->built_in(decompress_option(c));
        fs::path rel;
        if (tree) {
            auto r = m.file.lexically_relative(tree->dir());
            if (!r.empty() && *r.begin() != "..")
                rel = r;
        }
        if (rel.empty())
            rel = fs::path("extra") / m.file.filename();
        if (c != Compression::none && !keep)
            rel.replace_extension();  // kvm.ko.xz -> kvm.ko
        const auto guest = base / rel;
        p.host_file(guest.string(), m.file, c != Compression::none && !keep, 0644);
        list += guest.string();
        if (!m.params.empty())
            list += " " + m.params;
        list += "\n";
        p.plan.modules.push_back({std::move(m), guest.string(), keep});
    }
    if (!list.empty())
        p.data("/etc/ktstr/modules", std::move(list));
}

}  // namespace

Placement parse_placement(const std::string& text) {
    Placement p;
    std::string host = text;
    for (std::size_t end = text.size(); end > 0;) {
        const auto colon = text.rfind(':', end - 1);
        if (colon == std::string::npos)
            break;
        if (colon + 1 < text.size() && text[colon + 1] == '/') {
            host = text.substr(0, colon);
            p.guest = text.substr(colon + 1);
            break;
        }
        end = colon;
    }
    if (host.empty())
        throw std::invalid_argument(fmt::format("'{}': empty host path", text));
    p.host = host;
    return p;
}

InitramfsPlan plan_initramfs(const InitramfsSpec& spec) {
    if (spec.command.empty() || spec.command[0].empty())
        throw std::invalid_argument("no command to record (argv[0] is empty)");
    for (const auto& e : spec.environment) {
        const auto eq = e.find('=');
        if (eq == std::string::npos || eq == 0)
            throw std::invalid_argument(fmt::format("environment entry '{}' is not NAME=value", e));
    }
    if (spec.compression == Compression::xz)
        throw std::invalid_argument("xz images are not written; use gzip, zstd or none");
    if (spec.kernel_config && spec.compression != Compression::none) {
        const auto config = kernel::KernelConfig::read(*spec.kernel_config);
        const auto option = spec.compression == Compression::gzip ? "CONFIG_RD_GZIP" : "CONFIG_RD_ZSTD";
        if (!config.built_in(option))
            throw std::invalid_argument(fmt::format("the kernel cannot unpack a {} initramfs ({} is not set)",
                                                    compression_name(spec.compression), option));
    }

    Planner p;
    p.plan.compression = spec.compression;
    for (const char* d : {"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/dev", "/proc", "/sys", "/run", "/etc/ktstr"})
        p.directory(d);
    p.directory("/tmp", 01777);
    p.directory("/root", 0700);
    // The kernel opens /dev/console for init's stdio before ktstr-init
    // mounts devtmpfs; without the node init starts with no stdio.
    p.char_device("/dev/console", 5, 1, 0600);

    p.program(spec.init, "/init");
    for (const auto& prog : spec.programs)
        p.program(prog, fs::path("/bin") / prog.filename());
    for (const auto& f : spec.files) {
        const auto guest = f.guest.empty() ? fs::absolute(f.host).lexically_normal() : f.guest;
        if (!guest.is_absolute())
            throw std::invalid_argument(fmt::format("{}: the guest path must be absolute", guest.string()));
        std::error_code ec;
        if (fs::is_directory(f.host, ec))
            p.tree(f.host, guest);
        else
            p.program(f.host, guest);
    }
    if (!spec.modules.empty())
        plan_modules(spec, p);
    p.data("/etc/ktstr/command", nul_list(spec.command, "command"));
    p.data("/etc/ktstr/environment", nul_list(spec.environment, "environment"));
    if (!spec.scheduler.empty()) {
        if (spec.scheduler[0].empty())
            throw std::invalid_argument("no scheduler to record (argv[0] is empty)");
        p.data("/etc/ktstr/scheduler", nul_list(spec.scheduler, "scheduler"));
    }
    if (spec.busybox) {
        p.host_file("/bin/busybox", *spec.busybox);
        // Applets never displace a file given explicitly.
        for (const auto& a : busybox_applets(*spec.busybox))
            if (!p.taken("/bin/" + a))
                p.symlink("/bin/" + a, "busybox");
    }
    return std::move(p.plan);
}

std::string plan_key(const InitramfsPlan& plan) {
    ContentKey k;
    // Bump when the image layout or the writer's output changes.
    k.add("ktstr-initramfs-v1").add(compression_name(plan.compression));
    for (const auto& e : plan.entries) {
        k.add(static_cast<std::uint64_t>(e.kind)).add(e.path).add(e.mode).add(e.data);
        k.add(e.major).add(e.minor).add(e.decompress ? 1u : 0u).add(e.strip_debug ? 1u : 0u);
        if (e.kind == PlanEntry::Kind::host_file)
            k.add(e.host.string()).add_file_identity(e.host);
    }
    return k.hex();
}

}  // namespace ktstr::vmm::initramfs
