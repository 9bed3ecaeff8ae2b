// The files a dynamically linked program needs besides itself: its ELF
// interpreter and every shared library the loader would map, found the way
// glibc's loader finds them on this host (DT_RPATH, DT_RUNPATH, the
// directories of /etc/ld.so.conf, the system directories), recursively.
//
// In the image each file goes where the guest's loader will look without
// an ld.so.cache: the interpreter at its PT_INTERP path, libraries from
// system directories at their host path, libraries from other ld.so.conf
// directories and from absolute run paths (a build tree, an install
// prefix under /tmp, which the guest mounts over) in /usr/lib, libraries
// from $ORIGIN-relative run paths beside the program's guest path.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ktstr::vmm::initramfs {

struct RuntimeFile {
    std::filesystem::path host;   // what to copy (symlinks followed when copied)
    std::filesystem::path guest;  // where the guest's loader looks for it
};

struct LibrarySearch {
    std::vector<std::filesystem::path> conf_dirs;    // ld.so.conf order
    std::vector<std::filesystem::path> system_dirs;  // the loader's built-in list

    // This host's: /etc/ld.so.conf (with its include globs) and the
    // system directories of glibc on Debian for this architecture.
    static LibrarySearch host();
};

// Largest closure followed (a big desktop program needs about 200).
inline constexpr std::size_t max_libraries = 1024;

// Empty for a static program and for a file that is not ELF. Throws
// ElfError naming the library that cannot be found (or a malformed ELF
// file), or when the closure exceeds max_libraries.
std::vector<RuntimeFile> runtime_files(const std::filesystem::path& host_program,
                                       const std::filesystem::path& guest_program, const LibrarySearch& search);

// /etc/ld.so.conf-style parsing: one directory per line, '#' comments,
// "include GLOB" (relative to the file's directory), "hwcap" lines
// ignored. Missing files give nothing.
std::vector<std::filesystem::path> read_ld_so_conf(const std::filesystem::path& file);

}  // namespace ktstr::vmm::initramfs
