#include "cli/run_options.hpp"

#include <iterator>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <vector>

#include "arch/x86_64/layout.hpp"
#include "emulated_host/inner_arguments.hpp"
#include "kernel/kernel_arch.hpp"

namespace ktstr::cli {
namespace {

namespace fs = std::filesystem;
namespace x86 = vmm::x86_64;

const RunOptionSpec table[] = {
    {"--kernel", "default (Debian's cloud kernel, fetched if needed) or a bzImage path", &RunOptions::kernel,
     Inner::resolved, [](CLI::Option& o) { o.capture_default_str(); }},
    {"--kernel-entry",
     "auto: enter the kernel through PVH where it has it (its vmlinux unpacked on the host once, cached; the guest "
     "skips decompression), else the bzImage's entry; pvh; bzimage",
     &RunOptions::kernel_entry, Inner::resolved,
     [](CLI::Option& o) { o.check(CLI::IsMember({"auto", "pvh", "bzimage"}))->capture_default_str(); }},
    {"--arch",
     "The guest's architecture: x86_64 or arm64 (default: this machine's); arm64 on an x86_64 machine runs in the "
     "emulated arm64 KVM host",
     &RunOptions::arch, Inner::outer_only,
     [](CLI::Option& o) { o.check(CLI::IsMember(std::vector<std::string>(std::begin(vmm::kernel::arch_names), std::end(vmm::kernel::arch_names))))->type_name("ARCH"); }},
    {"--modules", "The kernel's lib/modules/<release> directory (default: next to it)", &RunOptions::modules,
     Inner::outer_only},
    {"--cpus", "vCPUs", &RunOptions::cpus, Inner::same,
     [](CLI::Option& o) { o.check(CLI::Range(1u, x86::max_cpus))->capture_default_str(); }},
    {"--topology",
     "CPU topology NODES,LLCS,CORES,THREADS: NUMA nodes, LLCs per node, cores per LLC, threads per core; the "
     "vCPU count is their product (docs/run.md)",
     &RunOptions::topology, Inner::same, [](CLI::Option& o) { o.type_name("N,L,C,T"); }},
    {"--memory", "Guest memory in MiB, the SHM region included", &RunOptions::memory_mib, Inner::same,
     [](CLI::Option& o) { o.check(CLI::Range(std::uint64_t{1}, x86::max_memory >> 20))->capture_default_str(); }},
    {"--shm-size", "SHM ring region: BYTES, or with a K, M or G suffix", &RunOptions::shm_size, Inner::same,
     [](CLI::Option& o) { o.capture_default_str(); }},
    {"--timeout", "Stop the guest when the command has run this many seconds (exit status 240)",
     &RunOptions::timeout_s, Inner::same,
     [](CLI::Option& o) { o.check(CLI::Range(1u, 86400u))->capture_default_str(); }},
    {"--boot-timeout", "Stop the guest if the command has not started after this many seconds (exit status 240)",
     &RunOptions::boot_timeout_s, Inner::same,
     [](CLI::Option& o) { o.check(CLI::Range(1u, 86400u))->capture_default_str(); }},
    {"--kvm", "", &RunOptions::kvm, Inner::resolved},
    {"--include",
     "Copy a host file into the guest: HOST[:GUEST]; without GUEST it goes to /include/<name>, which is on the "
     "command's PATH",
     &RunOptions::includes, Inner::outer_only,
     [](CLI::Option& o) {
         // One file per --include: otherwise the option would swallow the
         // `--` before the command, and the command's own options (sh -c)
         // would be parsed as ktstr-vmm's.
         o.type_name("HOST[:GUEST]")->allow_extra_args(false);
     }},
    // The inner run gets both: the scheduler is in the image already, and
    // the result names it (run_scheduler.hpp).
    {"--scheduler",
     "A sched_ext scheduler to start before the command and watch until it ends: the NAME of one built with the "
     "kernel (scx_simple, scx_qmap, scx_central, scx_flatcg) or a host program's PATH (docs/sched-ext.md)",
     &RunOptions::scheduler, Inner::same, [](CLI::Option& o) { o.type_name("NAME|PATH"); }},
    {"--scheduler-arg", "One argument for the scheduler (repeat for more, in order; --scheduler-arg=-e for a dash)",
     &RunOptions::scheduler_args, Inner::same,
     [](CLI::Option& o) { o.type_name("ARG")->allow_extra_args(false); }},
    {"--console-log", "Write the kernel console (COM1) to FILE", &RunOptions::console_log, Inner::output_file},
    {"--messages",
     "Write every frame the host receives (bulk port and SHM ring) to FILE, one JSON line each in the `decode` "
     "format",
     &RunOptions::messages, Inner::output_file, [](CLI::Option& o) { o.type_name("FILE"); }},
    {"--output-dir",
     "Where snapshot captures go (DIR/snapshots/ID-TAG/); default: a new private directory $TMPDIR (else "
     "/tmp)/ktstr-vmm-run-XXXXXX, removed at the end if no capture went there",
     &RunOptions::output_dir, Inner::output_dir, [](CLI::Option& o) { o.type_name("DIR"); }},
    {"--json",
     "After the command's output, print the run result as one JSON object on stdout, on a line of its own: the "
     "last line (docs/host.md)",
     &RunOptions::json, Inner::same},
    {"--json-file", "Write the run result (one JSON line) to FILE", &RunOptions::json_file, Inner::output_file,
     [](CLI::Option& o) { o.type_name("FILE"); }},
    {"--summary",
     "After the run, a short table on stderr: frames per channel and type, CRC errors, losses, snapshots, the "
     "exit status",
     &RunOptions::summary, Inner::same},
    // The outer run reads the result and writes the report: the inner run
    // need not.
    {"--report",
     "On a verdict other than pass, print the failure report on stderr: the summary line, failed checks, the "
     "scheduler's fate, workload metrics, the sched_ext dump and the kernel log's tail (docs/writing-tests.md)",
     &RunOptions::report, Inner::outer_only},
    {"-v,--verbose", "The kernel console on stderr (not quiet), and what the VMM does", &RunOptions::verbose,
     Inner::same},
    {"--append", "More kernel command-line parameters", &RunOptions::append, Inner::same},
    {"--initramfs", "", &RunOptions::initramfs, Inner::resolved},
};

// One option's values as the inner run gets them, before the kind of
// forwarding is applied: none for an unset text or flag.
struct Given {
    std::vector<std::string> values;
    bool flag = false;
};

Given given(const RunOptions& o, const RunOptionField& field) {
    Given g;
    std::visit(
        [&](auto member) {
            using T = std::remove_cvref_t<decltype(o.*member)>;
            const auto& v = o.*member;
            if constexpr (std::is_same_v<T, bool>)
                g.flag = v;
            else if constexpr (std::is_same_v<T, std::string>) {
                if (!v.empty())
                    g.values.push_back(v);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>)
                g.values = v;
            else if constexpr (std::is_same_v<T, KvmMode>)
                throw std::logic_error("run options: --kvm is only ever resolved for the inner run");
            else
                g.values.push_back(std::to_string(v));
        },
        field);
    return g;
}

}  // namespace

std::span<const RunOptionSpec> run_option_table() {
    return table;
}

std::string long_name(const RunOptionSpec& spec) {
    const std::string_view names = spec.names;
    const auto comma = names.rfind(',');
    return std::string(comma == std::string_view::npos ? names : names.substr(comma + 1));
}

void add_run_options(CLI::App& app, RunOptions& options) {
    for (const auto& spec : table) {
        CLI::Option* opt = std::visit(
            [&](auto member) -> CLI::Option* {
                auto& v = options.*member;
                using T = std::remove_cvref_t<decltype(v)>;
                if constexpr (std::is_same_v<T, bool>)
                    return app.add_flag(spec.names, v, spec.help);
                else if constexpr (std::is_same_v<T, KvmMode>)
                    return add_kvm_option(app, v);
                else
                    return app.add_option(spec.names, v, spec.help);
            },
            spec.field);
        if (*spec.help == '\0' && !std::holds_alternative<KvmMode RunOptions::*>(spec.field))
            opt->group("");
        if (spec.refine)
            spec.refine(*opt);
    }
    app.add_option("command", options.command, "The command to run in the guest, after --")
        ->type_name("CMD ARGS...");
}

std::vector<std::string> inner_run_arguments(const RunOptions& options, const ResolvedValues& resolved) {
    std::vector<vmm::emulated_host::InnerOption> inner;
    for (const auto& spec : table) {
        const auto name = long_name(spec);
        switch (spec.inner) {
        case Inner::outer_only:
            break;
        case Inner::resolved: {
            const auto it = resolved.find(name);
            if (it == resolved.end())
                throw std::logic_error("run options: no value settled for the inner run's " + name);
            inner.push_back({name, it->second});
            break;
        }
        case Inner::same:
        case Inner::output_file:
        case Inner::output_dir: {
            const auto g = given(options, spec.field);
            if (g.flag)
                inner.push_back({name, std::nullopt});
            for (const auto& v : g.values)
                inner.push_back({name, spec.inner == Inner::same ? v : fs::absolute(v).string()});
            break;
        }
        }
    }
    const std::vector<std::string> head{"run"};
    return vmm::emulated_host::inner_command_line(head, inner, options.command);
}

InnerRunOutputs inner_run_outputs(const RunOptions& options) {
    InnerRunOutputs out;
    for (const auto& spec : table) {
        if (spec.inner != Inner::output_file && spec.inner != Inner::output_dir)
            continue;
        for (const auto& v : given(options, spec.field).values)
            (spec.inner == Inner::output_file ? out.files : out.directories).push_back(fs::absolute(v));
    }
    return out;
}

}  // namespace ktstr::cli
