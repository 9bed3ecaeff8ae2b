// The command line of the inner ktstr-vmm: the same subcommand the user
// ran, told to use the outer guest's /dev/kvm.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::vmm::emulated_host {

// `arguments` (argv[0] excluded) with every --kvm value of `subcommand`
// replaced by "host", or "--kvm host" added right after the subcommand's
// name. Nothing after a "--" is touched (it belongs to the guest command).
std::vector<std::string> arguments_for_inner_host(std::span<const std::string> arguments, std::string_view subcommand);

}  // namespace ktstr::vmm::emulated_host
