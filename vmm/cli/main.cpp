// ktstr-vmm: entry point. Parses the command line, runs one subcommand,
// and turns every error into one line on stderr and a non-zero status.
#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "cli/command.hpp"

int main(int argc, char** argv) {
    using namespace ktstr::cli;
    CLI::App app{"ktstr-vmm: boot a kernel in a KVM VM, run a command inside, and collect what it reports"};
    app.name("ktstr-vmm");
    app.require_subcommand(1);
    app.set_version_flag("--version", "ktstr-vmm 0.1.0");

    const std::vector<std::string> arguments(argv, argv + argc);
    std::vector<Command> commands{
        add_decode_command(app),
        add_dtb_command(app),
        add_kernel_command(app),
        add_initramfs_command(app),
        add_kvm_check_command(app, arguments),
        add_emulated_host_inside_command(app),
        add_run_command(app),
    };

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "ktstr-vmm: {} (see --help)\n", e.what());
        return exit_usage;
    }

    try {
        for (auto& c : commands)
            if (c.app->parsed())
                return c.run();
    } catch (const UsageError& e) {
        fmt::print(stderr, "ktstr-vmm: {}\n", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        fmt::print(stderr, "ktstr-vmm: error: {}\n", e.what());
        return 1;
    }
    return exit_usage;
}
