#include "kernel/kernel_supply.hpp"
#include "kernel/system_map.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include <fmt/core.h>

#include "kernel/arm64_image_file.hpp"
#include "kernel/cache_dir.hpp"
#include "kernel/cache_link.hpp"
#include "kernel/file_lock.hpp"
#include "kernel/host_command.hpp"
#include "kernel/kernel_config.hpp"
#include "kernel/scratch_dir.hpp"

namespace ktstr::vmm::kernel {
namespace fs = std::filesystem;
namespace {

std::runtime_error error(const std::string& what) { return std::runtime_error(what); }

// Last non-empty line of a command's output, for one-line errors.
std::string last_line(const std::string& out) {
    auto end = out.find_last_not_of(" \n\r\t");
    if (end == std::string::npos)
        return "no output";
    auto start = out.rfind('\n', end);
    return out.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}


// Package names as Debian allows them; anything else (an option such as
// "-o...", a path) never reaches apt.
bool valid_package_name(const std::string& package) {
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (package.size() < 2 || !lower_or_digit(package.front()))
        return false;
    return std::all_of(package.begin(), package.end(),
                       [&](char c) { return lower_or_digit(c) || c == '.' || c == '+' || c == '-'; });
}

// The kernel image package `package` depends on directly, if any: a
// metapackage (linux-image-cloud-amd64, linux-image-6.12-cloud-amd64)
// names one; an image package names none.
std::optional<std::string> image_dependency(const std::string& package) {
    auto r = run_host_command({"apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-enhances", package});
    if (r.status != 0)
        return std::nullopt;
    // Lines look like "  Depends: linux-image-6.1.0-56-cloud-amd64"; a
    // virtual or alternative dependency ("<...>", "|Depends") is not an image.
    std::istringstream lines(r.output);
    std::string line;
    while (std::getline(lines, line)) {
        auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line.compare(start, 8, "Depends:") != 0)
            continue;
        auto name_start = line.find_first_not_of(" \t", start + 8);
        if (name_start == std::string::npos)
            continue;
        // A foreign architecture's names carry it: "linux-image-...:arm64".
        auto name_end = line.find_first_of(" \t<>:", name_start);
        std::string name = line.substr(name_start, name_end == std::string::npos ? std::string::npos : name_end - name_start);
        if (!name.starts_with("linux-image-") || name.size() == 12)
            continue;
        if (!name.ends_with("-unsigned") && !name.ends_with("-dbg"))
            return name;
    }
    return std::nullopt;
}

// apt's name for `package` of `arch`: "linux-image-cloud-arm64:arm64".
// Qualified always, so that each architecture's package comes whatever the
// host's own is.
std::string qualified(const std::string& package, KernelArch arch) {
    return fmt::format("{}:{}", package, debian_arch(arch));
}

bool apt_knows(const std::string& package, KernelArch arch) {
    auto r = run_host_command({"apt-cache", "show", "--no-all-versions", qualified(package, arch)});
    return r.status == 0 && r.output.find("Package: " + package) != std::string::npos;
}

// Follows metapackages down to the image package (at most a few hops:
// Debian's chains are one or two long).
std::optional<std::string> image_package(const std::string& package, KernelArch arch) {
    if (!apt_knows(package, arch))
        return std::nullopt;
    std::string p = package;
    for (int hop = 0; hop < 4; ++hop) {
        auto next = image_dependency(qualified(p, arch));
        if (!next)
            return p;
        p = *next;
    }
    return std::nullopt;
}

// Whether dpkg installs packages of `arch`: the host's own, or a foreign
// one added with `dpkg --add-architecture`.
bool dpkg_has_arch(KernelArch arch) {
    const std::string want(debian_arch(arch));
    auto native = run_host_command({"dpkg", "--print-architecture"});
    if (native.status == 0 && last_line(native.output) == want)
        return true;
    auto foreign = run_host_command({"dpkg", "--print-foreign-architectures"});
    std::istringstream lines(foreign.output);
    std::string line;
    while (std::getline(lines, line))
        if (line == want)
            return true;
    return false;
}

std::string resolve_package(const std::string& package, KernelArch arch) {
    if (!valid_package_name(package))
        throw error(fmt::format("'{}' is not a Debian package name", package));
    if (!on_path("apt-get") || !on_path("apt-cache") || !on_path("dpkg-deb"))
        throw error("kernel fetch needs apt-get, apt-cache and dpkg-deb (a Debian system)");
    const bool root = ::geteuid() == 0;
    bool updated = false;
    if (!dpkg_has_arch(arch)) {
        const std::string a(debian_arch(arch));
        if (!root)
            throw error(fmt::format("apt has no {0} packages: run `dpkg --add-architecture {0} && apt-get update` "
                                    "as root (scripts/setup_arm64.sh)", a));
        auto add = run_host_command({"dpkg", "--add-architecture", a});
        if (add.status != 0)
            throw error(fmt::format("dpkg --add-architecture {} failed: {}", a, last_line(add.output)));
        auto r = run_host_command({"apt-get", "update", "-qq"});
        if (r.status != 0)
            throw error("apt-get update failed: " + last_line(r.output));
        updated = true;
    }
    if (auto p = image_package(package, arch))
        return *p;
    // Fresh machines often have empty package lists: refresh once if we can.
    if (root && !updated) {
        auto r = run_host_command({"apt-get", "update", "-qq"});
        if (r.status != 0)
            throw error("apt-get update failed: " + last_line(r.output));
        if (auto p = image_package(package, arch))
            return *p;
    }
    throw error(fmt::format("apt knows no kernel package {}{}", qualified(package, arch),
                            root ? "" : " (run `apt-get update` as root and retry)"));
}

std::optional<KernelImage> image_in(const fs::path& root) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root / "boot", ec)) {
        auto name = e.path().filename().string();
        if (!name.starts_with("vmlinuz-"))
            continue;
        KernelImage k;
        k.release = name.substr(8);
        k.bzimage = boot_image_beside(e.path(), k.release);  // an arm64 vmlinuz's unpacked Image
        k.arch = kernel_file_arch(k.bzimage);
        if (fs::is_directory(root / "lib/modules" / k.release, ec))
            k.modules_dir = root / "lib/modules" / k.release;
        if (fs::is_regular_file(root / "boot" / ("config-" + k.release), ec))
            k.config = root / "boot" / ("config-" + k.release);
        k.system_map = system_map_for(k.bzimage, k.release);
        if (fs::is_directory(root / "ktstr/schedulers", ec))
            k.schedulers_dir = root / "ktstr/schedulers";
        return k;
    }
    return std::nullopt;
}

}  // namespace

fs::path cache_root() { return ktstr_cache_dir("kernels"); }

std::optional<KernelImage> kernel_in(const fs::path& release_dir) { return image_in(release_dir); }

FetchResult fetch(const std::string& package, KernelArch arch) {
    const auto image_pkg = resolve_package(package, arch);
    if (!image_pkg.starts_with("linux-image-") || image_pkg.size() == std::string("linux-image-").size())
        throw error(fmt::format("{} is not a Debian kernel image package (linux-image-...)", package));
    const std::string release = image_pkg.substr(std::string("linux-image-").size());
    const auto root = cache_root();
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec)
        throw error(fmt::format("{}: {}", root.string(), ec.message()));
    FileLock lock(root / ".lock");

    const auto dest = root / release;
    const bool is_default = package == default_package_for(arch);
    if (auto k = image_in(dest)) {
        if (is_default)
            set_cache_link(root, default_link_for(arch), release);
        return {*k, image_pkg, true};
    }

    ScratchDir scratch(root, ".fetch-");
    auto dl = run_host_command({"apt-get", "download", "-q", qualified(image_pkg, arch)}, scratch.path());
    if (dl.status != 0)
        throw error(fmt::format("apt-get download {} failed: {}", image_pkg, last_line(dl.output)));
    fs::path deb;
    for (const auto& e : fs::directory_iterator(scratch.path()))
        if (e.path().extension() == ".deb")
            deb = e.path();
    if (deb.empty())
        throw error(fmt::format("apt-get download {} produced no .deb", image_pkg));
    const auto tree = scratch.path() / "tree";
    auto x = run_host_command({"dpkg-deb", "-x", deb.string(), tree.string()});
    if (x.status != 0)
        throw error(fmt::format("dpkg-deb -x {} failed: {}", deb.filename().string(), last_line(x.output)));
    if (!image_in(tree))
        throw error(fmt::format("{} holds no boot/vmlinuz-*: not a kernel image package", image_pkg));
    if (arch == KernelArch::arm64)
        bootable_arm64_image(tree / "boot", release);  // the Image the VMM boots, checked
    fs::remove_all(dest, ec);  // a stale partial tree from an older layout
    fs::rename(tree, dest, ec);
    if (ec)
        throw error(fmt::format("rename into {}: {}", dest.string(), ec.message()));
    if (is_default)
        set_cache_link(root, default_link_for(arch), release);
    return {*image_in(dest), image_pkg, false};
}

std::optional<KernelImage> cached_default(KernelArch arch) {
    const auto root = cache_root();
    const auto release = read_cache_link(root, default_link_for(arch));
    if (!release)
        return std::nullopt;  // never fetched, or not our link
    return image_in(root / *release);
}

std::vector<KernelImage> list_cached() {
    std::vector<KernelImage> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache_root(), ec))
        if (!e.is_symlink() && e.is_directory() && !e.path().filename().string().starts_with("."))
            if (auto k = image_in(e.path()))
                out.push_back(*k);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.release < b.release; });
    return out;
}

namespace {

// A bzImage named by path: its modules, configuration and schedulers from
// the tree around it when it sits in one (.../boot/vmlinuz-R next to
// .../lib/modules/R, .../ktstr/schedulers).
KernelImage image_at(const fs::path& bzimage) {
    KernelImage k;
    k.bzimage = bzimage;
    auto name = k.bzimage.filename().string();
    k.release = name.starts_with("vmlinuz-") ? name.substr(8) : name;
    if (name.starts_with("vmlinuz-")) {
        std::error_code ec;
        k.bzimage = boot_image_beside(bzimage, k.release);  // a fetched arm64 kernel's unpacked Image
        const auto tree = k.bzimage.parent_path().parent_path();
        if (fs::is_directory(tree / "lib/modules" / k.release, ec))
            k.modules_dir = tree / "lib/modules" / k.release;
        if (fs::is_regular_file(bzimage.parent_path() / ("config-" + k.release), ec))
            k.config = bzimage.parent_path() / ("config-" + k.release);
        if (fs::is_directory(tree / "ktstr/schedulers", ec))
            k.schedulers_dir = tree / "ktstr/schedulers";
    }
    k.arch = kernel_file_arch(k.bzimage);
    k.system_map = system_map_for(k.bzimage, k.release);
    return k;
}

// A word naming a kernel in the cache: a link (sched-ext, a build's
// --name) or a release directory. nullopt when `spec` is not such a word.
std::optional<KernelImage> named_in_cache(const std::string& spec) {
    if (spec.empty() || spec.find('/') != std::string::npos || spec.starts_with("."))
        return std::nullopt;
    const auto root = cache_root();
    std::error_code ec;
    if (fs::is_symlink(root / spec, ec)) {
        const auto release = read_cache_link(root, spec);
        auto k = release ? image_in(root / *release) : std::nullopt;
        if (!k)
            throw error(fmt::format("kernel {}: the link {} names no kernel in the cache", spec,
                                    (root / spec).string()));
        return k;
    }
    if (fs::is_directory(root / spec, ec))
        return image_in(root / spec);
    return std::nullopt;
}

}  // namespace

KernelImage resolve(const std::string& spec, const std::optional<fs::path>& modules_dir, KernelArch arch) {
    KernelImage k;
    std::error_code ec;
    if (spec == default_link) {
        auto cached = cached_default(arch);
        k = cached ? *cached : fetch(default_package_for(arch), arch).image;
    } else if (spec == sched_ext_link) {
        const auto release = read_cache_link(cache_root(), sched_ext_link);
        auto built = release ? image_in(cache_root() / *release) : std::nullopt;
        if (!built)
            throw error("no built kernel: run 'ktstr-vmm kernel build' first");
        k = *built;
    } else if (fs::is_regular_file(spec, ec)) {
        k = image_at(spec);
    } else if (auto named = named_in_cache(spec)) {
        k = *named;
    } else if (spec.find('/') == std::string::npos) {
        throw error(fmt::format("kernel {}: no such file, and no kernel of that name in {} (see 'ktstr-vmm kernel list')",
                                spec, cache_root().string()));
    } else {
        throw error(fmt::format("kernel {}: no such file", spec));
    }
    if (modules_dir) {
        if (!fs::is_directory(*modules_dir, ec))
            throw error(fmt::format("modules {}: not a directory", modules_dir->string()));
        k.modules_dir = *modules_dir;
    }
    return k;
}

namespace {

using Wanted = std::vector<std::pair<std::string, std::string>>;

Wanted wanted_x86_64(bool for_kvm_host) {
    Wanted wanted = {
        {"CONFIG_VIRTIO_CONSOLE", "the bulk port"},
        {"CONFIG_VIRTIO_MMIO", "virtio devices without PCI"},
        {"CONFIG_ACPI", "CPUs and devices from the ACPI tables"},
        {"CONFIG_DEVMEM", "the SHM ring through /dev/mem"},
        {"CONFIG_SERIAL_8250", "the serial console and COM2"},
        {"CONFIG_BLK_DEV_INITRD", "the initramfs"},
    };
    if (for_kvm_host) {
        wanted.emplace_back("CONFIG_KVM", "/dev/kvm in the emulated KVM host");
        wanted.emplace_back("CONFIG_KVM_AMD", "KVM on the emulated host's AMD-style CPU");
    }
    return wanted;
}

// The guest's devices come from a device tree (fdt_builder.hpp): its
// UARTs are "ns16550a" nodes, its interrupt controller a GICv3. The
// emulated host is QEMU's virt machine (qemu_command.hpp).
Wanted wanted_arm64(bool for_kvm_host) {
    Wanted wanted = {
        {"CONFIG_VIRTIO_CONSOLE", "the bulk port"},
        {"CONFIG_VIRTIO_MMIO", "the virtio devices"},
        {"CONFIG_DEVMEM", "the SHM ring through /dev/mem"},
        {"CONFIG_SERIAL_8250", "the serial console and COM2"},
        {"CONFIG_SERIAL_OF_PLATFORM", "the device tree's ns16550a UARTs"},
        {"CONFIG_BLK_DEV_INITRD", "the initramfs"},
        {"CONFIG_ARM_GIC_V3", "the interrupt controller"},
    };
    if (for_kvm_host) {
        wanted.emplace_back("CONFIG_KVM", "/dev/kvm in the emulated KVM host");
        wanted.emplace_back("CONFIG_SERIAL_AMBA_PL011", "the emulated host's console (QEMU virt's PL011)");
        wanted.emplace_back("CONFIG_PCI_HOST_GENERIC", "the emulated host's PCI bus (QEMU virt)");
        wanted.emplace_back("CONFIG_SERIAL_8250_PCI", "the emulated host's COM2 (a PCI 16550)");
    }
    return wanted;
}

}  // namespace

std::vector<std::string> missing_config(const fs::path& config, bool for_kvm_host, KernelArch arch) {
    const auto values = KernelConfig::read(config);
    const auto wanted = arch == KernelArch::arm64 ? wanted_arm64(for_kvm_host) : wanted_x86_64(for_kvm_host);
    std::vector<std::string> missing;
    for (const auto& [name, why] : wanted)
        if (!values.enabled(name))
            missing.push_back(fmt::format("{} ({})", name, why));
    return missing;
}

}  // namespace ktstr::vmm::kernel
