// ktstr-boot-bench: boots the same kernel and the same initramfs N times
// with `ktstr-vmm run --kvm host` and N times with QEMU's microvm
// (-enable-kvm, virtio-mmio virtio-serial), one after the other on the
// same /dev/kvm, and times each from its output streams (boot_sample.hpp):
// the guest command's first stdout line, QEMU's first bulk-port write,
// the VMM's exit, stdout throughput, peak RSS and resident memory outside
// guest RAM.
//
// The guest is run's own: the image spec comes from run_image.hpp, QEMU's
// kernel command line from the layout and run_cmdline.hpp, and
// ktstr-vmm's command line from run's option table (run_options.hpp), so
// the benchmark cannot drift from what `ktstr-vmm run` boots.
//
// Without a usable /dev/kvm it runs itself inside the emulated KVM host
// (docs/kvm-anywhere.md) with ktstr-vmm, QEMU, its firmware, the kernel
// and the image as inputs, so both VMMs use the outer guest's nested KVM.
// Measurements only: docs/benchmarks.md records what it printed;
// scripts/bench_vm.sh runs it.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "arch/x86_64/layout.hpp"
#include "boot_report.hpp"
#include "boot_sample.hpp"
#include "cli/kvm_option.hpp"
#include "cli/run_cmdline.hpp"
#include "cli/run_image.hpp"
#include "cli/run_options.hpp"
#include "emulated_host/emulated_host.hpp"
#include "emulated_host/inner_arguments.hpp"
#include "initramfs/initramfs_builder.hpp"
#include "kernel/kernel_supply.hpp"
#include "kernel_image/kernel_entry.hpp"

namespace ktstr::bench::boot {
namespace {

namespace fs = std::filesystem;
using vmm::emulated_host::InnerOption;

constexpr const char* program_name = "ktstr-boot-bench";

struct BenchOptions {
    std::string kernel = "default";
    // ktstr-vmm's kernel entry (run's --kernel-entry), and QEMU's: "same"
    // gives QEMU the vmlinux too when ktstr-vmm enters through PVH.
    std::string kernel_entry = "auto";
    std::string qemu_kernel_entry = "same";
    std::string ktstr_kernel;  // hidden: the file ktstr-vmm boots (a vmlinux for PVH)
    std::string qemu_kernel;   // hidden: the file QEMU boots
    std::uint32_t cpus = 2;
    std::uint64_t memory_mib = 256;
    unsigned repeat = 5;
    unsigned timeout_s = 120;
    cli::KvmMode mode = cli::KvmMode::automatic;
    std::string ktstr_vmm = KTSTR_VMM_PATH;  // the build's, from CMake
    std::string qemu = "/usr/bin/qemu-system-x86_64";
    std::string qemu_firmware = "/usr/share/qemu/bios-microvm.bin";
    std::string which = "both";
    std::string report;
    std::string qemu_console;  // QEMU's COM1 to this file (diagnosis)
    std::string smaps;         // each boot's smaps at its own peak to this file (diagnosis)
    std::string qemu_append;   // more kernel parameters for QEMU's boots
    std::string qemu_machine = "microvm,acpi=on";
    bool verbose = false;   // the emulated host's console and QEMU's messages on stderr
    std::string initramfs;  // hidden: the ready image (the inner run gets one)
    std::vector<std::string> command;
};

// Bad input the user can fix: "ktstr-boot-bench: <what>", exit status 2.
struct UsageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// The image `ktstr-vmm run` builds for the command (run_image.hpp, same
// spec, so the same cache key and file).
fs::path build_image(const BenchOptions& o, const vmm::kernel::KernelImage& k) {
    return vmm::initramfs::build_initramfs(cli::run_image_spec(k, {}, o.command)).path;
}

// `ktstr-vmm run` as the emulated host's inner run gets it: run's option
// table with its defaults, the kernel and the ready image.
std::vector<std::string> ktstr_argv(const BenchOptions& o, const fs::path& json_file) {
    cli::RunOptions r;
    r.cpus = o.cpus;
    r.memory_mib = o.memory_mib;
    r.timeout_s = o.timeout_s;
    r.command = o.command;
    r.json_file = json_file.string();
    auto argv = cli::inner_run_arguments(r, {{"--kernel", o.ktstr_kernel},
                                             {"--kernel-entry", o.kernel_entry},
                                             {"--initramfs", o.initramfs},
                                             {"--kvm", "host"}});
    argv.insert(argv.begin(), o.ktstr_vmm);
    return argv;
}

// The kernel command line is ktstr-vmm's for a run without --verbose
// (the layout's line with run's quiet part) minus the SHM ring, which
// QEMU does not provide. microvm has one serial port: ktstr-init finds
// no COM2 and says so on the (discarded) console.
std::vector<std::string> qemu_argv(const BenchOptions& o) {
    std::string cmdline;
    try {
        cmdline = vmm::x86_64::guest_cmdline(cli::run_cmdline_extra(false, o.qemu_append), std::nullopt);
    } catch (const vmm::x86_64::LayoutError& e) {
        throw UsageError(fmt::format("--qemu-append: {}", e.what()));
    }
    return {o.qemu,
            "-M", o.qemu_machine,
            "-enable-kvm", "-cpu", "host",
            "-smp", std::to_string(o.cpus),
            "-m", fmt::format("{}M", o.memory_mib),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-bios", o.qemu_firmware,
            "-kernel", o.qemu_kernel,
            "-initrd", o.initramfs,
            "-append", cmdline,
            "-serial", o.qemu_console.empty() ? std::string("null") : "file:" + o.qemu_console,
            "-device", "virtio-serial-device,max_ports=2",
            "-chardev", "null,id=console",
            "-device", "virtconsole,chardev=console,nr=0",
            "-chardev", "file,id=bulk,path=/proc/self/fd/3",
            "-device", "virtserialport,chardev=bulk,nr=1,name=ktstr-bulk"};
}

// ktstr-vmm's boot timeline from its run result (guest_run.cpp), in
// seconds from its start; nothing when the file is missing or not JSON.
void read_timeline(const fs::path& json_file, BootSample& s) {
    std::ifstream in(json_file);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("boot_timeline"))
        return;
    auto get = [&](const char* key) -> std::optional<double> {
        const auto& t = j["boot_timeline"];
        if (!t.is_object() || !t.contains(key) || !t[key].is_number())
            return std::nullopt;
        return t[key].get<double>() / 1000.0;
    };
    s.vcpus_started = get("vcpus_started_ms");
    s.init_started = get("init_started_ms");
    s.command_started = get("command_started_ms");
}

int run_inside(const BenchOptions& o) {
    if (o.initramfs.empty())
        throw UsageError("with --kvm host, --initramfs is required (run it with --kvm auto or emulated)");
    const bool do_ktstr = o.which != "qemu", do_qemu = o.which != "ktstr";
    std::vector<BootSample> ktstr, qemu;
    std::vector<std::string> lines;
    auto say = [&](const std::string& line) {
        const auto l = fmt::format("{}: {}", program_name, line);
        fmt::print("{}\n", l);
        std::fflush(stdout);
        lines.push_back(l);
    };
    say(fmt::format("cpus={} memory_mib={} repeat={} kernel={} ({}) qemu_kernel={} ({}) initramfs={} qemu -M {}",
                    o.cpus, o.memory_mib, o.repeat, o.ktstr_kernel, o.kernel_entry, o.qemu_kernel,
                    o.qemu_kernel_entry, o.initramfs, o.qemu_machine));
    const fs::path json_file = fs::temp_directory_path() / fmt::format("ktstr-boot-bench-{}.json", ::getpid());
    for (unsigned i = 1; i <= o.repeat; ++i) {
        // Alternate which goes first, so neither always runs on a
        // freshly idle (or freshly busy) machine.
        for (int k = 0; k < 2; ++k) {
            const bool q = (i % 2 == 0) == (k == 0);
            if (q ? !do_qemu : !do_ktstr)
                continue;
            const char* name = q ? "qemu-microvm" : "ktstr-vmm";
            std::error_code ec;
            fs::remove(json_file, ec);
            BootSample s = q ? time_boot(qemu_argv(o), StdoutPath::bulk_port, o.timeout_s, o.memory_mib)
                             : time_boot(ktstr_argv(o, json_file), StdoutPath::own_stdout, o.timeout_s, o.memory_mib);
            if (!q)
                read_timeline(json_file, s);
            say(fmt::format("{} {} {}", name, i, describe(s)));
            if (!s.worked())
                say(fmt::format("{} {} stderr: {}", name, i, s.stderr_tail));
            (q ? qemu : ktstr).push_back(std::move(s));
        }
    }
    if (do_ktstr && do_qemu) {
        const auto k = summarise("ktstr-vmm", ktstr);
        const auto q = summarise("qemu-microvm", qemu);
        say(k.line);
        say(q.line);
        say(fmt::format("ratio ktstr-vmm/qemu-microvm first_line={:.2f} exit={:.2f}",
                        q.first_line_median > 0 ? k.first_line_median / q.first_line_median : 0,
                        q.exit_median > 0 ? k.exit_median / q.exit_median : 0));
    } else {
        say(summarise(do_qemu ? "qemu-microvm" : "ktstr-vmm", do_qemu ? qemu : ktstr).line);
    }
    if (!o.report.empty()) {
        std::ofstream f(o.report);
        for (const auto& l : lines)
            f << l << '\n';
        if (!f)
            throw std::runtime_error(fmt::format("{}: cannot write", o.report));
    }
    if (!o.smaps.empty()) {
        std::ofstream f(o.smaps);
        for (const auto* v : {&ktstr, &qemu})
            for (std::size_t i = 0; i < v->size(); ++i)
                f << fmt::format("# {} {} own_peak_kib={}\n", v == &ktstr ? "ktstr-vmm" : "qemu-microvm", i + 1,
                                 (*v)[i].own_peak_kib)
                  << (*v)[i].own_peak_smaps;
        if (!f)
            throw std::runtime_error(fmt::format("{}: cannot write", o.smaps));
    }
    for (const auto* v : {&ktstr, &qemu})
        for (const auto& s : *v)
            if (!s.worked())
                return 1;
    return 0;
}

// This benchmark again inside the emulated host, with --kvm host, the
// resolved kernel and the ready image; its outputs come back.
int run_emulated(const BenchOptions& o) {
    std::vector<InnerOption> options{{"--kvm", "host"},
                                     {"--ktstr-vmm", o.ktstr_vmm},
                                     {"--kernel", o.kernel},
                                     {"--kernel-entry", o.kernel_entry},
                                     {"--qemu-kernel-entry", o.qemu_kernel_entry},
                                     {"--ktstr-kernel", o.ktstr_kernel},
                                     {"--qemu-kernel", o.qemu_kernel},
                                     {"--initramfs", o.initramfs},
                                     {"--cpus", std::to_string(o.cpus)},
                                     {"--memory", std::to_string(o.memory_mib)},
                                     {"--repeat", std::to_string(o.repeat)},
                                     {"--timeout", std::to_string(o.timeout_s)},
                                     {"--qemu", o.qemu},
                                     {"--qemu-firmware", o.qemu_firmware},
                                     {"--which", o.which},
                                     {"--qemu-machine", o.qemu_machine}};
    vmm::emulated_host::Request req;
    if (!o.report.empty()) {
        options.push_back({"--report", fs::absolute(o.report).string()});
        req.outputs.push_back(fs::absolute(o.report));
    }
    if (!o.qemu_console.empty()) {
        options.push_back({"--qemu-console", fs::absolute(o.qemu_console).string()});
        req.outputs.push_back(fs::absolute(o.qemu_console));
    }
    if (!o.smaps.empty()) {
        options.push_back({"--smaps", fs::absolute(o.smaps).string()});
        req.outputs.push_back(fs::absolute(o.smaps));
    }
    if (!o.qemu_append.empty())
        options.push_back({"--qemu-append", o.qemu_append});
    req.arguments = vmm::emulated_host::inner_command_line({}, options, o.command);
    req.ktstr_vmm = o.ktstr_vmm;
    // One VM at a time inside; QEMU's own overhead on top of the guest RAM.
    req.inner_memory_mib = o.memory_mib + 256;
    req.cpus = o.cpus;
    req.timeout = std::chrono::seconds(120 + 2ull * o.repeat * o.timeout_s);
    req.verbose = o.verbose;
    return vmm::emulated_host::run_in_emulated_host(req);
}

int run_bench(BenchOptions o) {
    if (o.command.empty())
        o.command = {"sh", "-c", "echo bench-boot-ready"};
    if (o.which != "both" && o.which != "ktstr" && o.which != "qemu")
        throw UsageError("--which is both, ktstr or qemu");
    // QEMU's kernel command line checked now (--qemu-append), not after
    // the emulated host has booted.
    (void)qemu_argv(o);
    o.ktstr_vmm = fs::absolute(o.ktstr_vmm).string();
    if (::access(o.ktstr_vmm.c_str(), X_OK) != 0)
        throw UsageError(fmt::format("--ktstr-vmm {}: {}", o.ktstr_vmm, std::strerror(errno)));
    const auto placement = cli::place_kvm(o.mode, program_name);
    if (placement == cli::KvmPlacement::host && !o.initramfs.empty()) {
        // The inner run: the files as the outer one resolved them, or, run
        // by hand, the kernel given.
        if (o.ktstr_kernel.empty())
            o.ktstr_kernel = o.kernel;
        if (o.qemu_kernel.empty())
            o.qemu_kernel = o.kernel;
        return run_inside(o);
    }

    const auto k = vmm::kernel::resolve(o.kernel);
    const auto image = o.initramfs.empty() ? build_image(o, k) : fs::path(o.initramfs);
    for (const auto& p : {o.qemu, o.qemu_firmware})
        if (::access(p.c_str(), R_OK) != 0)
            throw UsageError(fmt::format("{}: {}", p, std::strerror(errno)));
    o.kernel = k.bzimage.string();
    o.initramfs = image.string();
    // The entries resolved here, outside the emulated host: the vmlinux is
    // unpacked (once, cached) on this machine, and both files go in.
    const auto entry_of = [&](const std::string& name) {
        const auto e = vmm::kernel_image::kernel_entry_from_name(name);
        if (!e)
            throw UsageError(fmt::format("kernel entry {}: not auto, pvh or bzimage", name));
        return vmm::kernel_image::choose_kernel_entry(k.bzimage, *e);
    };
    const auto ktstr_entry = entry_of(o.kernel_entry);
    const auto qemu_entry =
        o.qemu_kernel_entry == "same"
            ? ktstr_entry
            : entry_of(o.qemu_kernel_entry);
    o.ktstr_kernel = ktstr_entry.path.string();
    o.kernel_entry = vmm::kernel_image::kernel_entry_name(ktstr_entry.entry);
    o.qemu_kernel = qemu_entry.path.string();
    o.qemu_kernel_entry = vmm::kernel_image::kernel_entry_name(qemu_entry.entry);
    if (placement == cli::KvmPlacement::host)
        return run_inside(o);
    return run_emulated(o);
}

}  // namespace
}  // namespace ktstr::bench::boot

int main(int argc, char** argv) {
    using namespace ktstr::bench::boot;
    BenchOptions o;
    CLI::App app{"ktstr-boot-bench: ktstr-vmm against QEMU's microvm, booting the same guest on the same KVM "
                 "(docs/benchmarks.md)"};
    app.name(program_name);
    app.add_option("--kernel", o.kernel, "default (the kernel supply's) or a bzImage path")->capture_default_str();
    app.add_option("--kernel-entry", o.kernel_entry, "ktstr-vmm's kernel entry: auto, pvh or bzimage (run's)")
        ->check(CLI::IsMember({"auto", "pvh", "bzimage"}))
        ->capture_default_str();
    app.add_option("--qemu-kernel-entry", o.qemu_kernel_entry,
                   "QEMU's: same (as ktstr-vmm's, resolved), auto, pvh (-kernel the vmlinux) or bzimage")
        ->check(CLI::IsMember({"same", "auto", "pvh", "bzimage"}))
        ->capture_default_str();
    app.add_option("--ktstr-kernel", o.ktstr_kernel, "")->group("");
    app.add_option("--qemu-kernel", o.qemu_kernel, "")->group("");
    app.add_option("--cpus", o.cpus, "vCPUs of each VM")->check(CLI::Range(1u, 64u))->capture_default_str();
    app.add_option("--memory", o.memory_mib, "Guest memory in MiB")
        ->check(CLI::Range(std::uint64_t{64}, std::uint64_t{65536}))
        ->capture_default_str();
    app.add_option("--repeat", o.repeat, "Boots of each VMM")->check(CLI::Range(1u, 1000u))->capture_default_str();
    app.add_option("--timeout", o.timeout_s, "Seconds before a boot is killed and counted as failed")
        ->check(CLI::Range(1u, 86400u))
        ->capture_default_str();
    ktstr::cli::add_kvm_option(app, o.mode);
    app.add_option("--ktstr-vmm", o.ktstr_vmm, "The ktstr-vmm to benchmark")->capture_default_str();
    app.add_option("--qemu", o.qemu, "The QEMU to benchmark")->capture_default_str();
    app.add_option("--qemu-firmware", o.qemu_firmware, "QEMU's -bios")->capture_default_str();
    app.add_option("--which", o.which, "both, ktstr or qemu")->capture_default_str();
    app.add_option("--report", o.report, "Also write the printed lines to FILE")->type_name("FILE");
    app.add_option("--qemu-console", o.qemu_console, "QEMU's COM1 to FILE (diagnosis)")->type_name("FILE");
    app.add_option("--smaps", o.smaps, "Each boot's /proc/PID/smaps at its own-memory peak to FILE (diagnosis)")
        ->type_name("FILE");
    app.add_option("--qemu-append", o.qemu_append, "More kernel parameters for QEMU's boots");
    app.add_option("--qemu-machine", o.qemu_machine, "QEMU's -M")->capture_default_str();
    app.add_option("--initramfs", o.initramfs, "")->group("");
    app.add_flag("-v,--verbose", o.verbose, "The emulated host's console and QEMU's messages on stderr");
    app.add_option("command", o.command, "The guest command, after -- (default: sh -c 'echo bench-boot-ready')")
        ->type_name("CMD ARGS...");
    app.footer("Exit status 0 when every boot printed its line and exited 0; 1 otherwise; 2 bad arguments.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return run_bench(std::move(o));
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "{}: {}\n", program_name, e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", program_name, e.what());
        return 1;
    }
}
