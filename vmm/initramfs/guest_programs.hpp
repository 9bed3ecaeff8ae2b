// Where the programs every image carries come from: ktstr-init and
// ktstr-selftest (static, built with this project), and Debian's static
// busybox (package busybox-static) for a small userland.
//
// The guest programs are looked up, first found wins:
//   1. $KTSTR_GUEST_BIN_DIR/<name>
//   2. relative to the running ktstr code (ktstr_code_dir(): the ktstr-vmm
//      program, or the libktstr_vmm library a test program loaded):
//      ../guest/init/ktstr-init, ../guest/selftest/ktstr-selftest (the
//      build tree), ../libexec/ktstr/<name> (an installed layout)
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kernel/kernel_arch.hpp"

namespace ktstr::vmm::initramfs {

inline constexpr const char* guest_bin_dir_variable = "KTSTR_GUEST_BIN_DIR";

// The directory of the file this code runs from: the ktstr-vmm program,
// or libktstr_vmm.so inside another program (the build puts both in
// vmm/; an install, in bin/ and lib/, one level below the prefix each).
std::filesystem::path ktstr_code_dir();

// The ktstr-vmm program that goes with this code (the emulated host runs
// it inside): the running program when it is ktstr-vmm, else ktstr-vmm in
// ktstr_code_dir() or ../bin. Throws std::runtime_error naming where it
// looked.
std::filesystem::path ktstr_vmm_program();

// Where guest program `name` ("ktstr-init", "ktstr-selftest") would be,
// in search order (for messages).
std::vector<std::filesystem::path> guest_program_candidates(const std::string& name);

// The first candidate that is an executable file, or nullopt.
std::optional<std::filesystem::path> find_guest_program(const std::string& name);

// As find_guest_program, or std::runtime_error naming the places looked
// at and how to get the program.
std::filesystem::path guest_program(const std::string& name);

// The programs of a guest of another architecture than this program's (an
// arm64 guest run from x86_64, in the emulated arm64 KVM host), the first
// found of:
//   1. $KTSTR_ARM64_BIN_DIR/<name>
//   2. the install's ../libexec/ktstr/arm64/<name>, relative to
//      ktstr_code_dir() (cmake --install puts an arm64 build there), so
//      that an installed ktstr-vmm runs its own, not whatever the source
//      tree it was built from holds now
//   3. the arm64 build tree (scripts/build_arm64.sh; its path is fixed when
//      this project is configured, KTSTR_ARM64_BUILD_DIR, default
//      build-arm64 in the source tree): guest/init/ktstr-init,
//      guest/selftest/ktstr-selftest, vmm/ktstr-vmm
// For the native architecture, guest_program() and ktstr_vmm_program().
// Throws std::runtime_error naming where it looked and how to build them.
inline constexpr const char* arm64_bin_dir_variable = "KTSTR_ARM64_BIN_DIR";
// Where arm64 program `name` ("ktstr-init", "ktstr-selftest", "ktstr-vmm")
// would be, in the search order above.
std::vector<std::filesystem::path> arm64_program_candidates(const std::string& name);
std::filesystem::path guest_program_for(const std::string& name, kernel::KernelArch arch);
std::filesystem::path ktstr_vmm_program_for(kernel::KernelArch arch);
// busybox for `arch`: default_busybox natively; for arm64 elsewhere the one
// scripts/setup_arm64.sh unpacked: $KTSTR_ARM64_SYSROOT/bin/busybox, by
// default $XDG_CACHE_HOME (~/.cache)/ktstr/arm64-sysroot/bin/busybox.
std::filesystem::path busybox_for(kernel::KernelArch arch);

// Debian's busybox-static installs /bin/busybox.
inline constexpr const char* default_busybox = "/bin/busybox";

// The applets every image must have on PATH (commands and tests use them);
// busybox_applets() refuses a busybox without them.
std::vector<std::string> required_applets();

// The applets a busybox binary provides ("busybox --list"; for a binary of
// another architecture, which cannot run here, busybox_table_applets()),
// without init and linuxrc (/init is ktstr-init). Throws
// std::runtime_error when the binary does not run or lacks a required
// applet.
std::vector<std::string> busybox_applets(const std::filesystem::path& busybox);
// The applet names read from the binary's own name table (sorted, without
// init and linuxrc), without running it. Throws std::runtime_error when the
// file is no busybox.
std::vector<std::string> busybox_table_applets(const std::filesystem::path& busybox);

}  // namespace ktstr::vmm::initramfs
