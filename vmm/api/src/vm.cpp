// run_vm(): one VM run from a spec (ktstr/vmm/vm.hpp). The kernel and the
// initramfs are prepared here; the VM then runs on this machine's KVM
// (run/guest_run.hpp) or, without a usable /dev/kvm, inside the emulated
// KVM host, which runs `ktstr-vmm run` with the ready image (the inner
// run). Either way the host writes the run result to a file, and the
// VmResult is read from that file: one path for both.
#include "ktstr/vmm/vm.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>

#include "arch/aarch64/image.hpp"
#include "arch/aarch64/layout.hpp"
#include "arch/x86_64/bzimage.hpp"
#include "arch/x86_64/layout.hpp"
#include "arch/x86_64/topology.hpp"
#include "cli/kvm_option.hpp"
#include "cli/output_dir.hpp"
#include "cli/run_cmdline.hpp"
#include "cli/run_image.hpp"
#include "cli/run_options.hpp"
#include "cli/run_scheduler.hpp"
#include "emulated_host/emulated_host.hpp"
#include "initramfs/guest_programs.hpp"
#include "initramfs/initramfs_builder.hpp"
#include "kernel/arm64_image_file.hpp"
#include "kernel_image/kernel_entry.hpp"
#include "kernel/kernel_supply.hpp"
#include "kernel/system_map.hpp"
#include "kvm/kvm_error.hpp"
#include "kvm/memory_mapping.hpp"
#include "machine/boot_files.hpp"
#include "run/guest_run.hpp"
#include "run/run_verdict.hpp"

namespace ktstr::vmm {
namespace {

using cli::KvmPlacement;
using cli::RunOptions;
using cli::add_scheduler;
using cli::choose_scheduler;
using cli::inner_run_arguments;
using cli::inner_run_outputs;
using cli::run_cmdline_extra;
using cli::run_image_spec;
namespace x86 = vmm::x86_64;
namespace arm = vmm::aarch64;
using vmm::kernel::KernelArch;
namespace ir = vmm::initramfs;
namespace ki = vmm::kernel_image;
namespace fs = std::filesystem;

// The emulated host's own boot and the inner VMM's start, on top of the
// inner --boot-timeout and --timeout.
constexpr unsigned emulated_host_margin_s = 120;

// "4096", "0x1000", "64K", "1M", "2G" -> bytes.
std::uint64_t parse_size(const std::string& text) {
    std::string_view s = text;
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        s.remove_prefix(2);
        base = 16;
    }
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || end == s.data())
        throw SpecError(fmt::format("run: --shm-size '{}' is not a size (BYTES, or with a K, M or G suffix)", text));
    std::string_view suffix(end, static_cast<std::size_t>(s.data() + s.size() - end));
    unsigned shift = 0;
    if (suffix == "K" || suffix == "k" || suffix == "KiB")
        shift = 10;
    else if (suffix == "M" || suffix == "m" || suffix == "MiB")
        shift = 20;
    else if (suffix == "G" || suffix == "g" || suffix == "GiB")
        shift = 30;
    else if (!suffix.empty())
        throw SpecError(fmt::format("run: --shm-size '{}' is not a size (BYTES, or with a K, M or G suffix)", text));
    if (v > (UINT64_MAX >> shift))
        throw SpecError(fmt::format("run: --shm-size '{}' is too large", text));
    return v << shift;
}

// The kernel to boot (kernel supply: "default" is the cache's default
// link, fetched once if missing).
vmm::kernel::KernelImage resolve_kernel(const RunOptions& o, KernelArch arch) {
    std::optional<fs::path> modules;
    if (!o.modules.empty())
        modules = o.modules;
    vmm::kernel::KernelImage k;
    try {
        k = vmm::kernel::resolve(o.kernel, modules, arch);
    } catch (const std::exception& e) {
        throw SpecError(fmt::format("run: kernel: {}", e.what()));
    }
    if (k.arch != arch)
        throw SpecError(fmt::format("run: kernel {} is for {}, not {}{}", k.bzimage.string(),
                                     vmm::kernel::arch_name(k.arch), vmm::kernel::arch_name(arch),
                                     o.arch.empty() ? fmt::format(" (--arch {})", vmm::kernel::arch_name(k.arch)) : ""));
    return k;
}

// --arch, or this machine's.
KernelArch guest_arch(const RunOptions& o) {
    if (o.arch.empty())
        return vmm::kernel::native_arch;
    const auto a = vmm::kernel::arch_from_name(o.arch);
    if (!a)
        throw SpecError(fmt::format("run: --arch {}: not x86_64 or arm64", o.arch));
    // The one foreign guest there is an emulated host for: arm64 on x86_64.
    if (*a != vmm::kernel::native_arch && *a != KernelArch::arm64)
        throw SpecError(fmt::format("run: --arch {}: {} guests run on {} machines only", o.arch,
                                     vmm::kernel::arch_name(*a), vmm::kernel::arch_name(*a)));
    return *a;
}

byte_buffer read_file(const std::string& path, std::uint64_t limit) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw SpecError(fmt::format("run: {}: cannot open: {}", path, std::strerror(errno)));
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(f.tellg());
    if (size > limit)
        throw SpecError(fmt::format("run: {}: larger than {} MiB", path, limit >> 20));
    f.seekg(0);
    byte_buffer b(static_cast<std::size_t>(size));
    if (!f.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(size)))
        throw SpecError(fmt::format("run: {}: read failed", path));
    return b;
}

// The initramfs, mapped read-only: its bytes go from the page cache into
// guest RAM once (machine/boot_files.hpp), never through a copy on the heap.
vmm::kvm::MemoryMapping map_initrd(const std::string& path) {
    constexpr std::uint64_t max_initrd_bytes = 1ull << 30;
    try {
        return vmm::kvm::MemoryMapping::read_only_file(path, max_initrd_bytes);
    } catch (const vmm::kvm::KvmError& e) {
        throw SpecError(fmt::format("run: {}", e.what()));
    }
}

// The guest image (through the initramfs cache: a repeated run does not
// rebuild it).
fs::path build_initramfs(const RunOptions& o, const vmm::kernel::KernelImage& k) {
    ir::InitramfsSpec spec;
    try {
        spec = run_image_spec(k, o.includes, o.command);
        if (!o.scheduler.empty())
            add_scheduler(spec, choose_scheduler(o.scheduler, k), o.scheduler_args);
    } catch (const std::invalid_argument& e) {
        throw SpecError(fmt::format("run: {}", e.what()));
    } catch (const std::runtime_error& e) {
        throw SpecError(fmt::format("run: {}", e.what()));
    }
    try {
        return ir::build_initramfs(spec).path;
    } catch (const std::invalid_argument& e) {
        throw SpecError(fmt::format("run: initramfs: {}", e.what()));
    } catch (const std::runtime_error& e) {
        throw SpecError(fmt::format("run: initramfs: {}", e.what()));
    }
}

// The spec's topology parsed; none without one.
std::optional<x86::CpuTopology> run_topology(const RunOptions& o) {
    if (o.topology.empty())
        return std::nullopt;
    try {
        return x86::parse_topology(o.topology);
    } catch (const std::invalid_argument& e) {
        throw SpecError(fmt::format("run: --topology: {}", e.what()));
    }
}

// Sizes and counts the layout would refuse, as usage errors before
// anything is built.
void check_layout(const RunOptions& o, const std::optional<x86::CpuTopology>& topology, std::uint64_t shm_bytes,
                  KernelArch arch) {
    if (arch == KernelArch::arm64) {
        if (topology)
            throw SpecError("run: --topology is for x86_64 guests (an arm64 guest's CPUs are flat)");
        if (o.memory_mib > ((arm::max_guest_phys - arm::ram_base) >> 20))
            throw SpecError(fmt::format("run: --memory {} MiB is above the arm64 maximum of {} MiB", o.memory_mib,
                                         (arm::max_guest_phys - arm::ram_base) >> 20));
        arm::LayoutRequestAarch64 req;
        req.cpus = o.cpus;
        req.memory_bytes = o.memory_mib << 20;
        req.shm_bytes = shm_bytes;
        req.cmdline_extra = o.append;
        try {
            (void)arm::layout_aarch64(req);
        } catch (const arm::LayoutError& e) {
            throw SpecError(fmt::format("run: {}", e.what()));
        }
        return;
    }
    if (o.memory_mib > (x86::max_memory >> 20))
        throw SpecError(fmt::format("run: --memory {} MiB is above the maximum of {} MiB", o.memory_mib,
                                     x86::max_memory >> 20));
    x86::LayoutRequest req;
    req.cpus = o.cpus;
    req.topology = topology;
    req.memory_bytes = o.memory_mib << 20;
    req.shm_bytes = shm_bytes;
    req.cmdline_extra = o.append;
    try {
        (void)x86::layout_x86_64(req);
    } catch (const x86::LayoutError& e) {
        throw SpecError(fmt::format("run: {}", e.what()));
    }
}

// An output file's directory must exist (as for --console-log): a typo is
// a usage error before anything boots, not a failure after the run.
void check_output_file(const char* option, const std::string& path) {
    if (path.empty())
        return;
    const auto parent = fs::absolute(path).parent_path();
    if (!fs::is_directory(parent))
        throw SpecError(fmt::format("run: {} {}: no directory {}", option, path, parent.string()));
}

// An output file named by the user, opened (created or truncated) before
// anything boots, so a file that cannot be written is a usage error.
UniqueFd open_output_file(const char* option, const std::string& path) {
    if (path.empty())
        return {};
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd)
        throw SpecError(fmt::format("run: {} {}: cannot write: {}", option, path, std::strerror(errno)));
    return fd;
}

// The file and entry the kernel boots through (kernel_image/kernel_entry.hpp).
ki::KernelEntryChoice choose_entry(const RunOptions& o, const vmm::kernel::KernelImage& k) {
    const auto wanted = ki::kernel_entry_from_name(o.kernel_entry);
    if (!wanted)
        throw SpecError(fmt::format("run: kernel entry {}: not auto, pvh or bzimage", o.kernel_entry));
    // An arm64 Image has one entry (booting.rst): PVH is x86's.
    if (k.arch == KernelArch::arm64) {
        if (*wanted == ki::KernelEntry::pvh)
            throw SpecError("run: --kernel-entry pvh is for x86_64 kernels; an arm64 Image is entered as it is");
        // Checked here, not minutes later inside the emulated host: a
        // gzip'd Image (Image.gz) is arm64 too, but boots only unpacked.
        if (!vmm::kernel::is_arm64_image_file(k.bzimage))
            throw SpecError(fmt::format("run: kernel {}: not an uncompressed arm64 Image (unpack an Image.gz first, "
                                         "e.g. with gunzip; `kernel fetch --arch arm64` does it for Debian's)",
                                         k.bzimage.string()));
        return {k.bzimage, ki::KernelEntry::bzimage, ""};
    }
    try {
        auto choice = ki::choose_kernel_entry(k.bzimage, *wanted);
        if (o.verbose)
            fmt::print(stderr, "ktstr-vmm: kernel entry: {}{}\n",
                       choice.entry == ki::KernelEntry::pvh ? "PVH, " + choice.path.string() : "bzImage",
                       choice.fallback_reason.empty() ? "" : " (no PVH: " + choice.fallback_reason + ")");
        return choice;
    } catch (const std::invalid_argument& e) {
        throw SpecError(fmt::format("run: {}", e.what()));
    } catch (const std::runtime_error& e) {
        throw SpecError(fmt::format("run: kernel entry: {}", e.what()));
    }
}

// The largest kernel file this machine's boot reads.
#if defined(__aarch64__)
constexpr std::uint64_t max_kernel_file = arm::max_image_bytes;
#else
constexpr std::uint64_t max_kernel_file = x86::Vmlinux::max_file_size;
#endif

int run_here(const RunOptions& o, const std::optional<x86::CpuTopology>& topology, const vmm::kernel::KernelImage& k,
             const ki::KernelEntryChoice& entry, vmm::kvm::MemoryMapping initrd, std::uint64_t shm_bytes) {
    // The kernel read in place as the initrd is (machine/boot_files.hpp):
    // a vmlinux for the PVH entry, or the bzImage.
    vmm::machine::BootFiles boot = [&] {
        try {
            return vmm::machine::BootFiles(
                vmm::kvm::MemoryMapping::read_only_file(entry.path, max_kernel_file), std::move(initrd));
        } catch (const vmm::kvm::KvmError& e) {
            throw SpecError(fmt::format("run: kernel {}", e.what()));
        } catch (const std::invalid_argument& e) {  // BzImageError, VmlinuxError
            throw SpecError(fmt::format("run: kernel {}: {}", entry.path.string(), e.what()));
        }
    }();
    vmm::run::GuestRunOptions g;
    g.machine.cpus = o.cpus;
    g.machine.topology = topology;
    g.machine.memory_bytes = o.memory_mib << 20;
    g.machine.shm_bytes = shm_bytes;
    g.machine.cmdline_extra = run_cmdline_extra(o.verbose, o.append);
    g.timeout = std::chrono::seconds(o.timeout_s);
    g.boot_timeout = std::chrono::seconds(o.boot_timeout_s);
    g.console_log = open_output_file("--console-log", o.console_log);
    g.json_file = open_output_file("--json-file", o.json_file);
    g.verbose = o.verbose;
    g.messages_path = o.messages;
    g.output_dir = o.output_dir;
    g.json = o.json;
    g.summary = o.summary;
    if (k.system_map)
        g.system_map = *k.system_map;
    if (!o.scheduler.empty())
        g.scheduler = vmm::run::SchedulerRun{fs::path(o.scheduler).filename().string(), o.scheduler_args};
    try {
        return vmm::run::run_guest(std::move(g), std::move(boot));
    } catch (const std::invalid_argument& e) {
        // The layout or the boot plan refused the pieces (an initrd too
        // large for the memory, a command line too long for the kernel).
        throw SpecError(fmt::format("run: {}", e.what()));
    } catch (const vmm::kvm::KvmError& e) {
        fmt::print(stderr, "ktstr-vmm: VMM failure: KVM: {} (exit status {})\n", e.what(),
                   vmm::run::exit_vmm_failure);
        return vmm::run::exit_vmm_failure;
    }
}

int run_emulated(const RunOptions& o, const vmm::kernel::KernelImage& k, const ki::KernelEntryChoice& entry,
                 const fs::path& image) {
    const KernelArch arch = k.arch;
    // The inner run, from the parsed options (run_options.hpp): the kernel
    // as a path and the ready initramfs (both travel into the outer guest
    // as files named by the arguments); --include is already inside.
    // Output paths are absolute: the inner run writes them at the same
    // place inside the emulated host, and they come back from there.
    vmm::emulated_host::Request req;
    req.arguments = inner_run_arguments(
        o, {{"--kernel", entry.path.string()},
            {"--kernel-entry", std::string(ki::kernel_entry_name(entry.entry))},
            {"--initramfs", image.string()},
            {"--kvm", "host"}});
    // Emptied now, as a direct run does: a run that never reports leaves
    // no earlier result there.
    open_output_file("--json-file", o.json_file);
    auto outputs = inner_run_outputs(o);
    req.outputs = std::move(outputs.files);
    // A directory comes back only if a capture made it.
    req.output_dirs = std::move(outputs.directories);
    // Beside the kernel, so the inner run finds it (system_map_for) to
    // name where a hung boot's vCPUs were.
    if (k.system_map)
        req.inputs.push_back(*k.system_map);
    // A vmlinux has the bzImage's System.map linked beside it
    // (kernel_image/kernel_entry.hpp): the link goes in too.
    if (entry.entry == ki::KernelEntry::pvh)
        if (const auto beside = vmm::kernel::system_map_for(entry.path, entry.path.filename().string()))
            req.inputs.push_back(*beside);
    // The VMM that runs inside: this library's own ktstr-vmm, wherever the
    // calling program is; for an arm64 guest, the arm64 build's.
    try {
        req.ktstr_vmm = ir::ktstr_vmm_program_for(arch);
    } catch (const std::runtime_error& e) {
        throw SpecError(fmt::format("run: {}", e.what()));
    }
    req.program = req.ktstr_vmm;
    req.arch = arch;
    req.inner_memory_mib = o.memory_mib;
    req.timeout = std::chrono::seconds(o.boot_timeout_s + o.timeout_s + emulated_host_margin_s);
    req.verbose = o.verbose;
    req.explain_silent_exit = [](int status) { return status == 2 || status >= vmm::run::exit_timeout; };
    return vmm::emulated_host::run_in_emulated_host(req);
}

// The run result the host wrote, or null when there is none or it is not
// JSON (a run that ended before reporting, a broken emulated host).
nlohmann::ordered_json read_result_file(const fs::path& path) {
    // The host bounds what it keeps of the guest (RunLimits): a few MiB.
    constexpr std::uint64_t max_result_bytes = 64ull << 20;
    byte_buffer text;
    try {
        text = read_file(path.string(), max_result_bytes);
    } catch (const SpecError&) {
        return nullptr;  // missing, unreadable or too large
    }
    auto j = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
    return j.is_discarded() || !j.is_object() ? nlohmann::ordered_json(nullptr) : j;
}

int run_status(RunOptions& o, std::optional<cli::RunOutputDir>& own_dir) {
    if (o.command.empty())
        throw SpecError("run: no command given (ktstr-vmm run [OPTIONS] -- CMD ARGS...)");
    if (o.cpus == 0)
        throw SpecError("run: --cpus must be at least 1");
    // The topology decides the vCPU count (the CLI refuses a --cpus that
    // disagrees); the emulated host's inner run then gets both, agreeing.
    const auto topology = run_topology(o);
    if (topology)
        o.cpus = static_cast<std::uint32_t>(topology->cpus());
    if (o.scheduler.empty() && !o.scheduler_args.empty())
        throw SpecError("run: --scheduler-arg without --scheduler");
    const std::uint64_t shm_bytes = parse_size(o.shm_size);
    const KernelArch arch = guest_arch(o);
    check_layout(o, topology, shm_bytes, arch);
    check_output_file("--console-log", o.console_log);
    check_output_file("--messages", o.messages);
    check_output_file("--json-file", o.json_file);
    if (!o.output_dir.empty()) {
        std::error_code ec;
        fs::create_directories(o.output_dir, ec);
        if (!fs::is_directory(o.output_dir, ec))
            throw SpecError(fmt::format("run: --output-dir {}: cannot create it", o.output_dir));
    }

    // Without --output-dir, captures go to a private directory of this run
    // (output_dir.hpp), made before the guest boots and removed at the end
    // if none went there. The run result goes there too, unless asked for
    // elsewhere.
    auto ensure_output_dir = [&] {
        if (o.output_dir.empty()) {
            try {
                own_dir.emplace(cli::default_output_base());
            } catch (const std::runtime_error& e) {
                throw SpecError(fmt::format("run: {}", e.what()));
            }
            o.output_dir = own_dir->path().string();
        }
        o.output_dir = fs::absolute(o.output_dir).string();
        if (o.json_file.empty())
            o.json_file = (fs::path(o.output_dir) / "result.json").string();
    };

    // Only this machine's architecture runs on its KVM; another one runs in
    // its emulated KVM host, whatever --kvm auto would find here.
    const bool native = arch == vmm::kernel::native_arch;
    if (!native && o.kvm == KvmMode::host)
        throw SpecError(fmt::format("run: --kvm host runs {} guests only; an {} guest runs in the emulated KVM host",
                                     vmm::kernel::arch_name(vmm::kernel::native_arch), vmm::kernel::arch_name(arch)));
    const auto k = resolve_kernel(o, arch);
    if (!o.initramfs.empty()) {
        auto initrd = map_initrd(o.initramfs);
        if (!native || cli::place_kvm(o.kvm, "run") != KvmPlacement::host)
            throw SpecError("run: --initramfs is for the emulated host's inner run, with --kvm host");
        ensure_output_dir();
        return run_here(o, topology, k, choose_entry(o, k), std::move(initrd), shm_bytes);
    }
    // The image first: a bad --include is a usage error, reported alone,
    // before --kvm auto probes KVM and announces where the run goes.
    const auto image = build_initramfs(o, k);
    const auto placement = native ? cli::place_kvm(o.kvm, "run") : KvmPlacement::emulated;
    ensure_output_dir();
    const auto entry = choose_entry(o, k);
    if (placement == KvmPlacement::host)
        return run_here(o, topology, k, entry, map_initrd(image.string()), shm_bytes);
    return run_emulated(o, k, entry, image);
}

// report.json, whole or not at all (a temporary name, then a rename). The
// run is over by now: trouble here is said on stderr, never thrown, so the
// run's result and exit status are never lost to it.
void write_report_json(const VmResult& r, const fs::path& path) {
    const fs::path temp = path.string() + ".tmp";
    try {
        // Guest text that is not UTF-8 becomes U+FFFD rather than an
        // exception.
        const std::string text =
            failure_report_json(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
        {
            std::ofstream f(temp, std::ios::binary | std::ios::trunc);
            f.write(text.data(), static_cast<std::streamsize>(text.size()));
            f.close();
            if (!f)
                throw std::runtime_error("cannot write " + temp.string());
        }
        fs::rename(temp, path);
    } catch (const std::exception& e) {
        std::error_code ec;
        fs::remove(temp, ec);
        fmt::print(stderr, "ktstr-vmm: the failure report was not written to {}: {}\n", path.string(), e.what());
    }
}

}  // namespace

VmResult run_vm(VmSpec spec) {
    std::optional<cli::RunOutputDir> own_dir;
    const bool result_asked = !spec.json_file.empty();
    const bool inner_run = !spec.initramfs.empty();
    VmResult r;
    r.exit_status = run_status(spec, own_dir);
    r.output_dir = spec.output_dir;
    if (!spec.console_log.empty())
        r.console_log = fs::absolute(spec.console_log);
    const fs::path result_file = spec.json_file;
    read_run_result(r, read_result_file(result_file));
    if (!r.run_result.is_null())
        r.result_file = fs::absolute(result_file);
    decide_verdict(r);
    if (own_dir && !result_asked) {
        // The private directory keeps only what the run made besides its
        // result: it goes at the end when nothing else did.
        std::error_code ec;
        fs::remove(result_file, ec);
        r.result_file.clear();
    }
    if (r.verdict != Verdict::pass && !inner_run) {
        if (!own_dir)
            write_report_json(r, fs::path(spec.output_dir) / "report.json");
        if (spec.report) {
            const std::string text = failure_report(r);
            std::fwrite(text.data(), 1, text.size(), stderr);
            std::fflush(stderr);
        }
    }
    return r;
}

}  // namespace ktstr::vmm
