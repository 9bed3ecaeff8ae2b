#include "emulated_host/inner_arguments.hpp"

#include <stdexcept>

namespace ktstr::vmm::emulated_host {

std::vector<std::string> arguments_for_inner_host(std::span<const std::string> arguments, std::string_view subcommand) {
    std::vector<std::string> out(arguments.begin(), arguments.end());
    std::size_t i = 0;
    while (i < out.size() && out[i] != subcommand)
        ++i;
    if (i == out.size())
        return out;  // not ours to rewrite
    const std::size_t name_at = i;
    bool replaced = false;
    for (++i; i < out.size() && out[i] != "--"; ++i) {
        if (out[i] == "--kvm" && i + 1 < out.size()) {
            out[++i] = "host";
            replaced = true;
        } else if (out[i].starts_with("--kvm=")) {
            out[i] = "--kvm=host";
            replaced = true;
        }
    }
    if (!replaced)
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(name_at) + 1, {"--kvm", "host"});
    return out;
}

std::vector<std::string> inner_command_line(std::span<const std::string> head, std::span<const InnerOption> options,
                                            std::span<const std::string> command) {
    std::vector<std::string> out(head.begin(), head.end());
    for (const auto& o : options) {
        // A name with '=' would split differently on the inner side.
        if (!o.name.starts_with("--") || o.name.size() < 3 || o.name.find('=') != std::string::npos)
            throw std::invalid_argument("inner command line: '" + o.name + "' is not a long option name");
        out.push_back(o.value ? o.name + "=" + *o.value : o.name);
    }
    out.push_back("--");
    out.insert(out.end(), command.begin(), command.end());
    return out;
}

}  // namespace ktstr::vmm::emulated_host
