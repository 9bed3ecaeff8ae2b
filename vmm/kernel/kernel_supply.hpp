// Kernel supply: Debian kernel packages downloaded with apt-get and
// unpacked into a per-user cache, and the kernels `ktstr-vmm kernel build`
// put there (vmm/kernel_build/), found by release or by name.
//
// Cache layout ($XDG_CACHE_HOME, default ~/.cache):
//   ktstr/kernels/<release>/boot/vmlinuz-<release>     the bzImage (x86_64), an Image or Image.gz (arm64)
//   ktstr/kernels/<release>/boot/Image-<release>       arm64: the Image unpacked from a gzip'd vmlinuz
//   ktstr/kernels/<release>/boot/config-<release>      its configuration
//   ktstr/kernels/<release>/boot/System.map-<release>  its symbols (built kernels, some packages)
//   ktstr/kernels/<release>/lib/modules/<release>/     its modules (packages only: built kernels have none)
//   ktstr/kernels/<release>/ktstr/schedulers/          a built kernel's own sched_ext schedulers
//   ktstr/kernels/<release>/ktstr/build.json, build.log  how it was built
//   ktstr/kernels/default -> <release>                 the last fetch of the default package
//   ktstr/kernels/default-arm64 -> <release>           the same for arm64
//   ktstr/kernels/sched-ext -> <release>               the last `kernel build`
//   ktstr/kernels/<NAME> -> <release>                  `kernel build --name NAME`
//   ktstr/kernels/.lock                                serialises fetches and link updates
// A release directory appears whole (unpacked or built beside it, then
// renamed) or not at all.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kernel/kernel_arch.hpp"

namespace ktstr::vmm::kernel {

// Debian's metapackage for the default kernel: the cloud flavour (virtio
// and KVM as modules, small, boots fast).
inline constexpr const char* default_package = "linux-image-cloud-amd64";
// The same per architecture (arm64's has KVM built in).
constexpr const char* default_package_for(KernelArch a) {
    return a == KernelArch::arm64 ? "linux-image-cloud-arm64" : default_package;
}

struct KernelImage {
    // The bootable image: a bzImage on x86_64, an uncompressed Image on
    // arm64 (boot/Image-R, or boot/vmlinuz-R when that already is one).
    std::filesystem::path bzimage;
    KernelArch arch = KernelArch::x86_64;               // from the image's header
    std::optional<std::filesystem::path> modules_dir;  // lib/modules/<release>
    std::optional<std::filesystem::path> config;       // boot/config-<release>
    std::optional<std::filesystem::path> system_map;   // system_map.hpp's system_map_for()
    std::optional<std::filesystem::path> schedulers_dir;  // <release>/ktstr/schedulers (built kernels)
    std::string release;                               // "6.1.0-28-cloud-amd64"
};

std::filesystem::path cache_root();  // .../ktstr/kernels

// The symlink in cache_root() naming the default kernel's release.
inline constexpr const char* default_link = "default";
// The one for `arch`: x86_64 keeps the plain name; others get their own
// ("default-arm64"), so that fetching one never moves the other.
constexpr const char* default_link_for(KernelArch a) { return a == KernelArch::arm64 ? "default-arm64" : default_link; }
// The symlink naming the release of the last `kernel build`.
inline constexpr const char* sched_ext_link = "sched-ext";

struct FetchResult {
    KernelImage image;
    std::string package;        // the versioned package fetched
    bool already_cached = false;
};

// Resolves `package` (a metapackage such as linux-image-cloud-amd64 or
// linux-image-6.12-cloud-amd64, followed down to the image package it
// depends on, or an image package linux-image-<release>) of `arch`
// (apt's "package:amd64" / "package:arm64") and unpacks it into the cache
// unless it is there already; an arm64 package's gzip'd vmlinuz is
// unpacked into boot/Image-R there (arm64_image_file.hpp). Fetching
// default_package_for(arch) also points default_link_for(arch) at it.
// Always asks apt (no network needed: its package lists), so a newer
// default is picked up. Safe against concurrent fetches; runs `apt-get
// update` once when apt does not know the package and we are root, after
// `dpkg --add-architecture` when dpkg lacks a foreign `arch`. Throws
// std::runtime_error with a one-line reason (apt-get missing, apt without
// `arch` packages, unknown package, download failure, no vmlinuz in the
// package, an arm64 vmlinuz that is no Image).
FetchResult fetch(const std::string& package = default_package, KernelArch arch = KernelArch::x86_64);

// The kernel default_link_for(arch) names, without asking apt; nullopt
// when that default was never fetched.
std::optional<KernelImage> cached_default(KernelArch arch = KernelArch::x86_64);

// The kernel in a release directory laid out as above (boot/vmlinuz-R,
// ...); nullopt when it holds none.
std::optional<KernelImage> kernel_in(const std::filesystem::path& release_dir);

// The kernels in the cache, newest release last.
std::vector<KernelImage> list_cached();

// "default": the cached default kernel of `arch` (cached_default(): no
// apt, works offline), fetched first if the cache has none. "sched-ext": the last
// built kernel (an error when none was built). Otherwise a bzImage path,
// or else a word naming a link in cache_root() (`kernel build --name`) or
// a release there: a path wins over a name. A bzImage's modules come from
// `modules_dir` when given, else from a Debian-style tree around it
// (.../boot/vmlinuz-R next to .../lib/modules/R); its schedulers from
// .../ktstr/schedulers beside boot/. Throws std::runtime_error.
KernelImage resolve(const std::string& spec, const std::optional<std::filesystem::path>& modules_dir = {},
                    KernelArch arch = KernelArch::x86_64);

// The options ktstr needs (=y or =m) that `config`, a kernel for `arch`,
// lacks, each as "CONFIG_NAME (what it is for)". `for_kvm_host`: also
// what gives the emulated KVM host /dev/kvm.
std::vector<std::string> missing_config(const std::filesystem::path& config, bool for_kvm_host,
                                        KernelArch arch = KernelArch::x86_64);

}  // namespace ktstr::vmm::kernel
