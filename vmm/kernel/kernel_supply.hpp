// Kernel supply: Debian kernel packages downloaded with apt-get and
// unpacked into a per-user cache, and the kernels `ktstr-vmm kernel build`
// put there (vmm/kernel_build/), found by release or by name.
//
// Cache layout ($XDG_CACHE_HOME, default ~/.cache):
//   ktstr/kernels/<release>/boot/vmlinuz-<release>     the bzImage
//   ktstr/kernels/<release>/boot/config-<release>      its configuration
//   ktstr/kernels/<release>/boot/System.map-<release>  its symbols (built kernels, some packages)
//   ktstr/kernels/<release>/lib/modules/<release>/     its modules (packages only: built kernels have none)
//   ktstr/kernels/<release>/ktstr/schedulers/          a built kernel's own sched_ext schedulers
//   ktstr/kernels/<release>/ktstr/build.json, build.log  how it was built
//   ktstr/kernels/default -> <release>                 the last fetch of the default package
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

namespace ktstr::vmm::kernel {

// Debian's metapackage for the default kernel: the cloud flavour (virtio
// and KVM as modules, small, boots fast).
inline constexpr const char* default_package = "linux-image-cloud-amd64";

struct KernelImage {
    std::filesystem::path bzimage;
    std::optional<std::filesystem::path> modules_dir;  // lib/modules/<release>
    std::optional<std::filesystem::path> config;       // boot/config-<release>
    std::optional<std::filesystem::path> system_map;   // system_map.hpp's system_map_for()
    std::optional<std::filesystem::path> schedulers_dir;  // <release>/ktstr/schedulers (built kernels)
    std::string release;                               // "6.1.0-28-cloud-amd64"
};

std::filesystem::path cache_root();  // .../ktstr/kernels

// The symlink in cache_root() naming the default kernel's release.
inline constexpr const char* default_link = "default";
// The symlink naming the release of the last `kernel build`.
inline constexpr const char* sched_ext_link = "sched-ext";

struct FetchResult {
    KernelImage image;
    std::string package;        // the versioned package fetched
    bool already_cached = false;
};

// Resolves `package` (a metapackage such as linux-image-cloud-amd64 or
// linux-image-6.12-cloud-amd64, followed down to the image package it
// depends on, or an image package linux-image-<release>) and unpacks it
// into the cache unless it is there already. Fetching default_package
// also points the `default` link at it. Always asks apt (no network
// needed: its package lists), so a newer default is picked up. Safe
// against concurrent fetches; runs `apt-get update` once when apt does not
// know the package and we are root. Throws std::runtime_error with a
// one-line reason (apt-get missing, unknown package, download failure, no
// vmlinuz in the package).
FetchResult fetch(const std::string& package = default_package);

// The kernel the `default` link names, without asking apt; nullopt when
// the default was never fetched.
std::optional<KernelImage> cached_default();

// The kernel in a release directory laid out as above (boot/vmlinuz-R,
// ...); nullopt when it holds none.
std::optional<KernelImage> kernel_in(const std::filesystem::path& release_dir);

// The kernels in the cache, newest release last.
std::vector<KernelImage> list_cached();

// "default": the cached default kernel (cached_default(): no apt, works
// offline), fetched first if the cache has none. "sched-ext": the last
// built kernel (an error when none was built). Otherwise a bzImage path,
// or else a word naming a link in cache_root() (`kernel build --name`) or
// a release there: a path wins over a name. A bzImage's modules come from
// `modules_dir` when given, else from a Debian-style tree around it
// (.../boot/vmlinuz-R next to .../lib/modules/R); its schedulers from
// .../ktstr/schedulers beside boot/. Throws std::runtime_error.
KernelImage resolve(const std::string& spec, const std::optional<std::filesystem::path>& modules_dir = {});

// The options ktstr needs (=y or =m) that `config` lacks, each as
// "CONFIG_NAME (what it is for)". `for_kvm_host`: also the KVM modules the
// emulated KVM host loads.
std::vector<std::string> missing_config(const std::filesystem::path& config, bool for_kvm_host);

}  // namespace ktstr::vmm::kernel
