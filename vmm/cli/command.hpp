// A subcommand of ktstr-vmm: its CLI11 sub-app and what running it does.
// Each add_*_command registers its options on the root app and returns
// the action main() runs when that subcommand was given.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ktstr/vmm/vm.hpp"

namespace ktstr::cli {

struct Command {
    CLI::App* app;
    std::function<int()> run;  // returns the process exit status
};

// Thrown for bad input the user can fix (unreadable file, bad value):
// main prints "ktstr-vmm: <what>" and exits 2. The same type as the
// library's SpecError, so run_vm()'s refusals are usage errors too.
using UsageError = ktstr::vmm::SpecError;

inline constexpr int exit_usage = 2;

Command add_decode_command(CLI::App& root);
Command add_dtb_command(CLI::App& root);
Command add_kernel_command(CLI::App& root);
Command add_initramfs_command(CLI::App& root);
// `arguments` is the whole command line (argv), kept by main for commands
// that may re-run themselves inside the emulated KVM host.
Command add_kvm_check_command(CLI::App& root, const std::vector<std::string>& arguments);
Command add_emulated_host_inside_command(CLI::App& root);
Command add_run_command(CLI::App& root);

}  // namespace ktstr::cli
