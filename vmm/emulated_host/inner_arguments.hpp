// The command line of the inner ktstr-vmm: the same subcommand the user
// ran, told to use the outer guest's /dev/kvm. Either the user's own
// arguments rewritten (kvm-check) or assembled from the parsed options
// (run and the boot benchmark, from one description of their options).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::vmm::emulated_host {

// `arguments` (argv[0] excluded) with every --kvm value of `subcommand`
// replaced by "host", or "--kvm host" added right after the subcommand's
// name. Nothing after a "--" is touched (it belongs to the guest command).
std::vector<std::string> arguments_for_inner_host(std::span<const std::string> arguments, std::string_view subcommand);

// One option as the inner command gets it.
struct InnerOption {
    std::string name;                  // "--cpus"
    std::optional<std::string> value;  // none: a flag
};

// `head`, then each option as one argument, "--name=value" (a value that
// starts with '-', holds spaces or is empty stays that option's value) or
// "--name", then "--" and `command` untouched (the guest command's own).
// Throws std::invalid_argument for a name that is not a long option.
std::vector<std::string> inner_command_line(std::span<const std::string> head, std::span<const InnerOption> options,
                                            std::span<const std::string> command);

}  // namespace ktstr::vmm::emulated_host
