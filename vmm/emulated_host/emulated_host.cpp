#include "emulated_host/emulated_host.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <ktstr/host/terminal_text.hpp>

#include "emulated_host/input_paths.hpp"
#include "emulated_host/outer_initramfs.hpp"
#include "emulated_host/outer_kernel.hpp"
#include "emulated_host/qemu_monitor.hpp"
#include "emulated_host/qemu_process.hpp"
#include "kernel/system_map.hpp"

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;
namespace {

constexpr std::uint64_t mib = 1024 * 1024;

void say(const std::string& line) {
    fmt::print(stderr, "ktstr-vmm: emulated host: {}\n", line);
    std::fflush(stderr);
}

// Where the outer CPUs were when QEMU was killed at the timeout, one line
// each, their pcs named by the outer kernel's System.map where they fall
// in its text (it runs with nokaslr, so the pcs also match the map of
// Debian's -dbg package when ours is a stub). A pc outside it is user
// space or, on x86_64 where QEMU does not say which, the inner guest's.
void print_outer_cpus(const QemuRunResult& r, const kernel::KernelImage& kernel, std::chrono::milliseconds wait) {
    const auto cpus = parse_cpu_states(r.monitor_reply);
    if (cpus.empty()) {
        if (r.ended_during_query)
            say("QEMU ended by itself while its monitor was asked where the outer CPUs were");
        else if (!r.monitor_asked)
            say("QEMU's monitor could not be asked where the outer CPUs were");
        else if (r.monitor_reply.empty())
            say(fmt::format("QEMU's monitor did not answer within {:.1f} s: QEMU itself was stuck",
                            static_cast<double>(wait.count()) / 1000));
        else
            say("QEMU's monitor answered without the CPUs' registers");
        return;
    }
    // Unnamed pcs are still worth printing.
    const auto map = kernel::SystemMap::read_if_useful(kernel.system_map.value_or(fs::path()));
    fmt::print(stderr, "--- the outer CPUs when QEMU was killed ---\n");
    for (const auto& cpu : cpus) {
        std::string line = fmt::format("outer CPU {}: pc {:#x}", cpu.index, cpu.pc);
        if (map) {
            const auto name = map->describe(cpu.pc);
            line += name ? fmt::format(" ({})", *name) : std::string(" (not in the outer kernel's text)");
        }
        if (!cpu.privilege.empty())
            line += ", " + cpu.privilege;
        if (cpu.halted)
            line += *cpu.halted ? ", halted" : ", running";
        fmt::print(stderr, "{}\n", line);
    }
}

// execvp's search, without running anything.
std::optional<fs::path> find_in_path(std::string_view name) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!rest.empty()) {
        auto colon = rest.find(':');
        auto dir = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        if (dir.empty())
            continue;
        fs::path candidate = fs::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return std::nullopt;
}

// The environment the inner command sees: where the kernel cache lives,
// and ktstr's own settings.
std::vector<std::string> inner_environment() {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view kv(*e);
        if (kv.starts_with("HOME=") || kv.starts_with("XDG_CACHE_HOME=") || kv.starts_with("KTSTR_"))
            env.emplace_back(kv);
    }
    return env;
}

// The last few lines of the console, for a failure report.
std::string last_lines(const std::string& text, std::size_t count) {
    std::size_t end = text.size();
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r'))
        --end;
    std::size_t start = end;
    for (std::size_t n = 0; start > 0 && n < count; --start)
        if (text[start - 1] == '\n')
            ++n;
    return text.substr(start, end - start);
}

// The outer console's last lines for the user's terminal: they carry the
// guest's own output, so each is escaped and prefixed (terminal_text.hpp).
std::string console_lines(const std::string& console_tail) {
    return host::terminal_lines(last_lines(console_tail, 20), "console| ", 20);
}

std::string describe_wait_status(int st) {
    if (WIFEXITED(st))
        return fmt::format("exit status {}", WEXITSTATUS(st));
    if (WIFSIGNALED(st))
        return fmt::format("signal {}", WTERMSIG(st));
    return "unknown status";
}

}  // namespace

std::uint64_t outer_memory_mib(std::uint64_t inner_memory_mib, std::uint64_t image_bytes) {
    // 512 MiB runs the outer kernel, ktstr-init and the inner VMM with
    // room to spare; the initramfs is held twice while it unpacks.
    return 512 + inner_memory_mib + (2 * image_bytes + mib - 1) / mib;
}

int run_in_emulated_host(const Request& request) {
    const fs::path cwd = fs::current_path();
    const fs::path self = fs::read_symlink("/proc/self/exe");
    const fs::path ktstr_vmm = request.ktstr_vmm.empty() ? self : absolute_from(request.ktstr_vmm, cwd);
    const fs::path program = request.program.empty() ? self : absolute_from(request.program, cwd);

    ReturnOutputs declared;
    for (const auto& o : request.outputs)
        declared.files.push_back(absolute_from(o, cwd));
    for (const auto& o : request.output_dirs)
        declared.directories.push_back(absolute_from(o, cwd));
    std::vector<fs::path> outputs = declared.files;
    outputs.insert(outputs.end(), declared.directories.begin(), declared.directories.end());
    std::vector<fs::path> files = files_named_by(request.arguments, outputs, cwd);
    // The programs go in once, stripped, even where an argument names
    // them (the boot benchmark's --ktstr-vmm).
    std::erase_if(files, [&](const fs::path& f) { return f == ktstr_vmm || f == program; });
    for (const auto& i : request.inputs) {
        auto p = absolute_from(i, cwd);
        if (!fs::exists(p))
            throw std::runtime_error(fmt::format("emulated host: input {} does not exist", p.string()));
        files.push_back(p);
    }

    const auto wanted = qemu_program(request.arch);
    auto qemu = find_in_path(wanted.program);
    if (!qemu) {
        say(fmt::format("{} not found on PATH (Debian package {}; scripts/setup.sh, or for arm64 scripts/setup_arm64.sh, installs it)", wanted.program,
                        wanted.package));
        return exit_host_failure;
    }

    kernel::KernelImage kernel;
    OuterInitramfs image;
    try {
        kernel = find_outer_kernel(request.arch);
        OuterInitramfsSpec spec;
        spec.ktstr_vmm = ktstr_vmm;
        spec.arch = request.arch;
        if (program != ktstr_vmm)
            spec.programs.push_back(program);
        spec.inputs = files;
        spec.modules_dir = *kernel.modules_dir;
        spec.kernel_config = kernel.config;
        // The guest side runs from the image, then makes every host path
        // (the programs' own included) visible at its real place.
        spec.command = {staged_path(ktstr_vmm).string(), "emulated-host-inside", "--cwd", cwd.string()};
        for (const auto& o : outputs) {
            spec.command.push_back("--output");
            spec.command.push_back(o.string());
        }
        spec.command.push_back("--bind");
        spec.command.push_back(ktstr_vmm.string());
        for (const auto& p : spec.programs) {
            spec.command.push_back("--bind");
            spec.command.push_back(p.string());
        }
        for (const auto& f : files) {
            spec.command.push_back("--bind");
            spec.command.push_back(f.string());
        }
        spec.command.push_back("--");
        spec.command.push_back(program.string());
        spec.command.insert(spec.command.end(), request.arguments.begin(), request.arguments.end());
        spec.environment = inner_environment();
        image = build_outer_initramfs(spec);
    } catch (const std::exception& e) {
        say(e.what());
        return exit_host_failure;
    }

    QemuRunOptions run;
    run.plan.arch = request.arch;
    run.plan.qemu = qemu->string();
    run.plan.kernel = kernel.bzimage.string();
    run.plan.initramfs = image.path.string();
    run.plan.cmdline = outer_kernel_cmdline(request.verbose, request.arch);
    // A debugging knob: more outer-kernel parameters (docs/kvm-anywhere.md).
    if (const char* extra = std::getenv("KTSTR_EMULATED_HOST_APPEND"); extra && *extra)
        run.plan.cmdline += std::string(" ") + extra;
    run.plan.cpus = request.cpus;
    // Debugging knobs for trying other emulations (docs/kvm-anywhere.md).
    if (const char* cpu = std::getenv("KTSTR_EMULATED_HOST_CPU"); cpu && *cpu)
        run.plan.cpu_model = cpu;
    if (const char* smp = std::getenv("KTSTR_EMULATED_HOST_SMP"); smp && *smp) {
        unsigned n = 0;
        const auto [end, ec] = std::from_chars(smp, smp + std::strlen(smp), n);
        if (ec != std::errc() || *end != '\0' || n == 0 || n > 64) {
            say(fmt::format("KTSTR_EMULATED_HOST_SMP={}: not a CPU count from 1 to 64", smp));
            return exit_host_failure;
        }
        run.plan.cpus = n;
    }
    run.plan.memory_mib = outer_memory_mib(request.inner_memory_mib, image.image_bytes);
    run.timeout = request.timeout;
    run.verbose = request.verbose;
    run.outputs = declared;
    if (request.verbose)
        say(fmt::format("{} cpus, {} MiB, kernel {}, initramfs {} ({} MiB of files)", run.plan.cpus,
                        run.plan.memory_mib, kernel.bzimage.string(), image.path.string(), image.image_bytes / mib));

    QemuRunResult r = run_qemu(run);
    if (r.timed_out) {
        say(fmt::format("timed out after {} s; {} (exit status {})", request.timeout.count(),
                        r.ended_during_query ? "QEMU ended by itself right after" : "QEMU killed", exit_timeout));
        // Where the outer guest was (a soft lockup, a hung boot) when it
        // was killed: the console is all there is to go on.
        if (!request.verbose && !r.console_tail.empty())
            fmt::print(stderr, "--- last console lines ---\n{}", console_lines(r.console_tail));
        print_outer_cpus(r, kernel, run.monitor_wait);
        return exit_timeout;
    }
    if (!r.exit_code) {
        std::string why = fmt::format("QEMU ended ({}) after {:.1f} s without an exit code from the guest",
                                      describe_wait_status(r.qemu_status), static_cast<double>(r.elapsed.count()) / 1000);
        if (auto panic = r.console_tail.find("Kernel panic"); panic != std::string::npos)
            why += ": the outer kernel panicked";
        say(why);
        if (!request.verbose) {
            if (!r.qemu_stderr.empty())
                fmt::print(stderr, "{}", r.qemu_stderr);
            if (!r.console_tail.empty())
                fmt::print(stderr, "--- last console lines ---\n{}", console_lines(r.console_tail));
        }
        return exit_host_failure;
    }
    if (r.output_error) {
        say(*r.output_error);
        return *r.exit_code != 0 ? *r.exit_code : exit_host_failure;
    }
    if (*r.exit_code != 0 && !r.inner_output && !request.verbose && !r.console_tail.empty() &&
        request.explain_silent_exit(*r.exit_code)) {
        // Failed without a word on the inner stderr: whatever went wrong
        // (the guest side's arguments, a missing port) is on the console.
        say(fmt::format("exit code {} and no output from the inner command; the console said:", *r.exit_code));
        fmt::print(stderr, "{}", console_lines(r.console_tail));
    }
    if (request.verbose)
        say(fmt::format("guest exit code {} after {:.1f} s", *r.exit_code, static_cast<double>(r.elapsed.count()) / 1000));
    return *r.exit_code;
}

}  // namespace ktstr::vmm::emulated_host
