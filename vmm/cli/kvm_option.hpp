// `--kvm auto|host|emulated`, shared by every subcommand that needs KVM
// (kvm-check, run) and the boot benchmark (bench/boot):
//
//   host       use /dev/kvm here; fail if it is unusable
//   emulated   re-run the same command inside the emulated KVM host (a
//              QEMU TCG guest with nested SVM; docs/kvm-anywhere.md)
//   auto       host when /dev/kvm is usable, otherwise say so in one line
//              on stderr and go emulated (the default)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "ktstr/vmm/vm_spec.hpp"

namespace ktstr::cli {

using KvmMode = ktstr::vmm::KvmMode;

// Registers --kvm on `app`, writing the choice to `mode`.
CLI::Option* add_kvm_option(CLI::App& app, KvmMode& mode);

// Why `device` cannot run a VM here (it cannot be opened, has the wrong
// API version, or refuses to create a VM), or nullopt when it can.
std::optional<std::string> kvm_unusable_reason(const std::string& device = "/dev/kvm");

enum class KvmPlacement { host, emulated };

// Where `command` runs for `mode`. For automatic without a usable
// /dev/kvm this prints one line on stderr saying so.
KvmPlacement place_kvm(KvmMode mode, std::string_view command, const std::string& device = "/dev/kvm");

}  // namespace ktstr::cli
