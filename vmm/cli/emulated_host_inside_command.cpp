// `ktstr-vmm emulated-host-inside` (hidden): the emulated host's guest
// side, the command ktstr-init runs in the outer QEMU guest. Not for
// people: the host side records it in the outer initramfs
// (vmm/emulated_host/guest_side.hpp).
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "emulated_host/guest_side.hpp"

namespace ktstr::cli {

Command add_emulated_host_inside_command(CLI::App& root) {
    struct Options {
        std::string cwd;
        std::vector<std::string> outputs;
        std::vector<std::string> binds;
        std::vector<std::string> command;
    };
    auto opts = std::make_shared<Options>();
    auto* app = root.add_subcommand("emulated-host-inside", "");
    app->group("");  // hidden from --help
    app->add_option("--cwd", opts->cwd, "");
    app->add_option("--output", opts->outputs, "");
    app->add_option("--bind", opts->binds, "");
    // Everything from the first positional argument (or after "--") is the
    // inner command, options and all.
    app->prefix_command(true);
    return {app, [opts, app] {
                opts->command = app->remaining();
                if (!opts->command.empty() && opts->command.front() == "--")
                    opts->command.erase(opts->command.begin());
                vmm::emulated_host::GuestSideOptions g;
                g.cwd = opts->cwd;
                for (const auto& o : opts->outputs)
                    g.outputs.emplace_back(o);
                for (const auto& b : opts->binds)
                    g.host_paths.emplace_back(b);
                g.command = opts->command;
                g.hold_kvm = true;
                return vmm::emulated_host::run_guest_side(g);
            }};
}

}  // namespace ktstr::cli
