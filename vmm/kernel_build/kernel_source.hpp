// The kernel tree a build compiles, and its identity (what the build key
// takes of it).
//
// By default Debian's linux-source package: its candidate version (from
// apt's package lists, no network), downloaded with `apt-get download` and
// its tarball unpacked, without installing the package, into
// $XDG_CACHE_HOME/ktstr/sources/linux-source-<version>/ (about 1.7 GB).
// The tree is unpacked beside its place and renamed, so it appears whole
// or not at all; sources/.lock serialises unpackers; each build holds its
// tree's lock shared, and a newer version's unpack removes only the older
// trees nobody holds. Identity: "linux-source-6.12 <version>".
//
// Or a tree the user names (`--source DIR`), never written to (builds are
// out of tree). Identity of a git work tree: HEAD, and digests of `git diff
// HEAD` and of the untracked files (names, sizes, modification times);
// otherwise the version in its Makefile and a digest of every file's path,
// size and modification time.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/file_lock.hpp"

namespace ktstr::vmm::kernel_build {

inline constexpr const char* debian_source_package = "linux-source-6.12";

struct KernelSource {
    std::filesystem::path dir;   // the top of the tree (Makefile, Kconfig)
    std::string description;     // "linux-source-6.12 6.12.118-1~deb12u1", or the path
    std::string identity;
    std::optional<kernel::FileLock> in_use;  // a cached tree's lock, held shared
};

// What is going on, for the progress line: "downloading ...", "unpacking ...: 45%".
using SourceProgress = std::function<void(const std::string&)>;

// Debian's source package as apt would install it now: its identity
// ("linux-source-6.12 6.12.118-1~deb12u1") without the tree, so a build
// found in the cache needs no source at all.
struct DebianSource {
    std::string package;
    std::string version;
    std::string identity() const { return package + " " + version; }
};

// The candidate version from apt's package lists (no network; `apt-get
// update` once when apt does not know the package and we are root).
// Throws std::runtime_error (apt missing, no such package).
DebianSource debian_source_version();

// Its tree from the cache, downloaded and unpacked first when missing.
// Throws std::runtime_error (apt-get download failing, a tarball that does
// not unpack).
KernelSource debian_source(const DebianSource& which, const SourceProgress& progress);

// A kernel tree the user names. Throws BadBuildInput when it is not a
// directory, not a kernel tree with tools/sched_ext, or was configured in
// place (`make O=` refuses such a tree).
KernelSource user_source(const std::filesystem::path& dir);

// "6.12.118" from a kernel Makefile's VERSION, PATCHLEVEL, SUBLEVEL and
// EXTRAVERSION; nullopt when it has no VERSION.
std::optional<std::string> makefile_version(std::string_view makefile);

// The identity of a tree that is not a git work tree: "tree <version>
// files <sha256 of each file's relative path, size and mtime>".
std::string file_tree_identity(const std::filesystem::path& dir, const std::string& version);

// The identity of a git work tree: "git <HEAD> diff <sha256> untracked
// <sha256>"; nullopt when `dir` is not the top of a git work tree.
std::optional<std::string> git_tree_identity(const std::filesystem::path& dir);

}  // namespace ktstr::vmm::kernel_build
