// `ktstr-vmm bench-boot` (hidden): boots the same kernel and the same
// initramfs N times with `ktstr-vmm run --kvm host` and N times with QEMU's
// microvm (-enable-kvm, virtio-mmio virtio-serial), one after the other on
// the same /dev/kvm, and times each from its output streams:
//
//   first line   the guest command's first stdout line reaching the host
//                (ktstr-vmm: its stdout; QEMU: the first Stdout frame with
//                a newline on the bulk port, decoded here)
//   first port   QEMU only: ktstr-init's first write to the bulk port
//                (Lifecycle InitStarted); ktstr-vmm does not show it
//   exit         the VMM process gone
//   stdout       bytes of the command's stdout and the seconds from their
//                first to their last byte (throughput runs)
//   max RSS      the VMM process's peak resident set (wait4's ru_maxrss,
//                what /proc's VmHWM shows), guest RAM it touched included
//   own memory   the peak of its resident memory outside guest RAM
//                (process_memory.hpp), sampled from smaps every 100 ms
//
// Without a usable /dev/kvm it runs itself inside the emulated KVM host
// (docs/kvm-anywhere.md) with QEMU, its firmware, the kernel and the image
// as inputs, so both VMMs use the outer guest's nested KVM. Measurements
// only: docs/benchmarks.md records what it printed; scripts/bench_vm.sh runs it.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <ktstr/common/kernel_cmdline_params.hpp>
#include <ktstr/common/msg_type.hpp>
#include <ktstr/common/payloads.hpp>
#include <ktstr/common/tlv_assembler.hpp>

#include "arch/x86_64/layout.hpp"
#include "cli/command.hpp"
#include "cli/kvm_option.hpp"
#include "cli/process_memory.hpp"
#include "emulated_host/emulated_host.hpp"
#include "initramfs/guest_programs.hpp"
#include "initramfs/initramfs_builder.hpp"
#include "kernel/kernel_supply.hpp"

namespace ktstr::cli {
namespace {

namespace fs = std::filesystem;
namespace ir = vmm::initramfs;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
    std::string kernel = "default";
    std::uint32_t cpus = 2;
    std::uint64_t memory_mib = 256;
    unsigned repeat = 5;
    unsigned timeout_s = 120;
    KvmMode mode = KvmMode::automatic;
    std::string qemu = "/usr/bin/qemu-system-x86_64";
    std::string qemu_firmware = "/usr/share/qemu/bios-microvm.bin";
    std::string which = "both";
    std::string report;
    std::string qemu_console;  // QEMU's COM1 to this file (diagnosis)
    std::string qemu_append;   // more kernel parameters for QEMU's boots
    std::string qemu_machine = "microvm,acpi=on";
    bool verbose = false;   // the emulated host's console and QEMU's messages on stderr
    std::string initramfs;  // hidden: the ready image (the inner run gets one)
    std::vector<std::string> command;
};

// One boot of one VMM.
struct Sample {
    int status = -1;                  // the VMM's exit status (128+N: signal N)
    std::optional<int> guest_exit;    // the guest command's, where the VMM tells it
    std::optional<double> first_port; // seconds after start
    std::optional<double> first_line;
    std::optional<double> first_stdout;
    std::optional<double> last_stdout;
    double exit = 0;
    std::uint64_t stdout_bytes = 0;
    long max_rss_kib = 0;
    std::uint64_t own_peak_kib = 0;  // resident outside guest RAM, sampled
    bool timed_out = false;
    std::string stderr_tail;
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The guest command's stdout as it arrives: when its first line was
// complete, how many bytes, first and last byte.
void note_stdout(Sample& s, byte_view bytes, double t) {
    if (bytes.empty())
        return;
    if (!s.first_stdout)
        s.first_stdout = t;
    s.last_stdout = t;
    s.stdout_bytes += bytes.size();
    if (!s.first_line && std::find(bytes.begin(), bytes.end(), std::uint8_t{'\n'}) != bytes.end())
        s.first_line = t;
}

// The same image `ktstr-vmm run` builds for a command without --include
// (run_command.cpp's build_initramfs, same spec, so the same cache key and
// file): ktstr-init, ktstr-selftest, busybox, virtio_mmio and
// virtio_console, the command and its environment.
fs::path build_image(const BenchOptions& o, const vmm::kernel::KernelImage& k) {
    ir::InitramfsSpec spec;
    spec.init = ir::guest_program("ktstr-init");
    spec.programs.push_back(ir::guest_program("ktstr-selftest"));
    spec.busybox = ir::default_busybox;
    spec.modules_dir = k.modules_dir;
    spec.kernel_config = k.config;
    if (k.modules_dir)
        for (const char* m : {"virtio_mmio", "virtio_console"})
            spec.modules.push_back({m, ""});
    spec.command = o.command;
    spec.environment = {"PATH=/include:/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "TERM=dumb"};
    return ir::build_initramfs(spec).path;
}

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw std::runtime_error(fmt::format("bench-boot: pipe: {}", std::strerror(errno)));
        read = fds[0];
        write = fds[1];
    }
    ~Pipe() {
        if (read >= 0)
            ::close(read);
        if (write >= 0)
            ::close(write);
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    void close_write() {
        ::close(write);
        write = -1;
    }
};

// Starts `argv` with stdout, stderr and (when given) fd 3 on the pipes'
// write ends, stdin /dev/null; it dies with us.
pid_t spawn(const std::vector<std::string>& argv, Pipe& out, Pipe& err, Pipe* port) {
    std::vector<char*> cargv;
    for (const auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(fmt::format("bench-boot: fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127);
        const int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(out.write, 1);
        ::dup2(err.write, 2);
        if (port)
            ::dup2(port->write, 3);  // dup2 clears close-on-exec
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    return pid;
}

// Runs one VMM to its end, reading its streams. `port` (QEMU) carries the
// bulk port's frames; without it stdout is the guest command's stdout.
Sample run_once(const std::vector<std::string>& argv, bool qemu, unsigned timeout_s, std::uint64_t guest_ram_mib) {
    Sample s;
    Pipe out, err;
    std::unique_ptr<Pipe> port;
    if (qemu)
        port = std::make_unique<Pipe>();
    const auto start = Clock::now();
    const pid_t pid = spawn(argv, out, err, port.get());
    out.close_write();
    err.close_write();
    if (port)
        port->close_write();
    const int pidfd = pidfd_open(pid);
    if (pidfd < 0)
        throw std::runtime_error(fmt::format("bench-boot: pidfd_open: {}", std::strerror(errno)));

    TlvAssembler frames;
    std::vector<std::uint8_t> buf(1 << 20);
    bool out_open = true, err_open = true, port_open = port != nullptr, running = true;
    const auto deadline = start + std::chrono::seconds(timeout_s);
    constexpr auto sample_every = std::chrono::milliseconds(100);
    auto next_sample = start;
    while (out_open || err_open || port_open || running) {
        if (running && Clock::now() >= next_sample) {
            if (auto m = read_resident_split(pid, guest_ram_mib * 1024))
                s.own_peak_kib = std::max(s.own_peak_kib, m->other_kib);
            next_sample = Clock::now() + sample_every;
        }
        std::vector<pollfd> fds;
        if (out_open)
            fds.push_back({out.read, POLLIN, 0});
        if (err_open)
            fds.push_back({err.read, POLLIN, 0});
        if (port_open)
            fds.push_back({port->read, POLLIN, 0});
        if (running)
            fds.push_back({pidfd, POLLIN, 0});
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0 && running) {
            ::kill(pid, SIGKILL);
            s.timed_out = true;
        }
        const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(left, 0, 100)));
        if (n < 0 && errno != EINTR)
            throw std::runtime_error(fmt::format("bench-boot: poll: {}", std::strerror(errno)));
        for (const auto& p : fds) {
            if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (p.fd == pidfd) {
                int status = 0;
                rusage ru{};
                if (::wait4(pid, &status, 0, &ru) == pid) {
                    s.exit = seconds_since(start);
                    s.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                    s.max_rss_kib = ru.ru_maxrss;
                    running = false;
                }
                continue;
            }
            const ssize_t r = ::read(p.fd, buf.data(), buf.size());
            const double t = seconds_since(start);
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                (p.fd == out.read ? out_open : p.fd == err.read ? err_open : port_open) = false;
                continue;
            }
            const byte_view bytes(buf.data(), static_cast<std::size_t>(r));
            if (p.fd == err.read) {
                s.stderr_tail.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
                if (s.stderr_tail.size() > 4096)
                    s.stderr_tail.erase(0, s.stderr_tail.size() - 4096);
            } else if (p.fd == out.read) {
                if (!qemu)
                    note_stdout(s, bytes, t);
            } else {
                if (!s.first_port)
                    s.first_port = t;
                frames.feed(bytes);
                while (auto f = frames.next()) {
                    if (f->msg_type() == static_cast<std::uint32_t>(MsgType::Stdout))
                        note_stdout(s, f->payload, t);
                    else if (f->msg_type() == static_cast<std::uint32_t>(MsgType::Exit))
                        if (auto code = decode_i32(f->payload))
                            s.guest_exit = *code;
                }
            }
        }
    }
    ::close(pidfd);
    if (!qemu)
        s.guest_exit = s.status;
    return s;
}

std::vector<std::string> ktstr_argv(const BenchOptions& o) {
    std::vector<std::string> a{fs::read_symlink("/proc/self/exe").string(), "run", "--kvm", "host", "--kernel",
                               o.kernel, "--initramfs", o.initramfs, "--cpus", std::to_string(o.cpus),
                               "--memory", std::to_string(o.memory_mib), "--timeout", std::to_string(o.timeout_s),
                               "--"};
    a.insert(a.end(), o.command.begin(), o.command.end());
    return a;
}

// The kernel command line is ktstr-vmm's for a run without --verbose
// (layout.hpp's base_cmdline, KTSTR_GUEST=1, quiet, no console echo) minus
// the SHM ring, which QEMU does not provide. microvm has one serial port:
// ktstr-init finds no COM2 and says so on the (discarded) console.
std::vector<std::string> qemu_argv(const BenchOptions& o) {
    std::string cmdline = fmt::format("{} {} quiet {}=0", vmm::x86_64::base_cmdline, cmdline_params::guest_word,
                                      cmdline_params::init_echo_key);
    if (!o.qemu_append.empty())
        cmdline += " " + o.qemu_append;
    return {o.qemu,
            "-M", o.qemu_machine,
            "-enable-kvm", "-cpu", "host",
            "-smp", std::to_string(o.cpus),
            "-m", fmt::format("{}M", o.memory_mib),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-bios", o.qemu_firmware,
            "-kernel", o.kernel,
            "-initrd", o.initramfs,
            "-append", cmdline,
            "-serial", o.qemu_console.empty() ? std::string("null") : "file:" + o.qemu_console,
            "-device", "virtio-serial-device,max_ports=2",
            "-chardev", "null,id=console",
            "-device", "virtconsole,chardev=console,nr=0",
            "-chardev", "file,id=bulk,path=/proc/self/fd/3",
            "-device", "virtserialport,chardev=bulk,nr=1,name=ktstr-bulk"};
}

std::string seconds(const std::optional<double>& v) {
    return v ? fmt::format("{:.3f}", *v) : std::string("-");
}

std::string describe(const Sample& s) {
    std::string mbps = "-";
    if (s.first_stdout && s.last_stdout && *s.last_stdout > *s.first_stdout)
        mbps = fmt::format("{:.1f}", static_cast<double>(s.stdout_bytes) / 1e6 / (*s.last_stdout - *s.first_stdout));
    return fmt::format("first_port={} first_line={} exit={:.3f} status={} guest_exit={} stdout_bytes={} "
                       "stdout_first={} stdout_last={} stdout_MBps={} max_rss_kib={} own_peak_kib={}{}",
                       seconds(s.first_port), seconds(s.first_line), s.exit, s.status,
                       s.guest_exit ? std::to_string(*s.guest_exit) : "-", s.stdout_bytes, seconds(s.first_stdout),
                       seconds(s.last_stdout), mbps, s.max_rss_kib, s.own_peak_kib, s.timed_out ? " TIMED-OUT" : "");
}

struct Spread {
    double median = 0, min = 0, max = 0;
    std::size_t n = 0;
};

Spread spread(std::vector<double> v) {
    Spread s;
    s.n = v.size();
    if (v.empty())
        return s;
    std::sort(v.begin(), v.end());
    s.min = v.front();
    s.max = v.back();
    s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    return s;
}

template <class Get>
Spread spread_of(const std::vector<Sample>& samples, Get get) {
    std::vector<double> v;
    for (const auto& s : samples)
        if (auto x = get(s))
            v.push_back(*x);
    return spread(v);
}

int run_inside(BenchOptions o) {
    if (o.initramfs.empty())
        throw UsageError("bench-boot: with --kvm host, --initramfs is required (run it with --kvm auto or emulated)");
    const bool do_ktstr = o.which != "qemu", do_qemu = o.which != "ktstr";
    std::vector<Sample> ktstr, qemu;
    std::vector<std::string> lines;
    auto say = [&](const std::string& line) {
        fmt::print("{}\n", line);
        std::fflush(stdout);
        lines.push_back(line);
    };
    say(fmt::format("bench-boot: cpus={} memory_mib={} repeat={} kernel={} initramfs={} qemu -M {}", o.cpus,
                    o.memory_mib, o.repeat, o.kernel, o.initramfs, o.qemu_machine));
    for (unsigned i = 1; i <= o.repeat; ++i) {
        // Alternate which goes first, so neither always runs on a
        // freshly idle (or freshly busy) machine.
        for (int k = 0; k < 2; ++k) {
            const bool q = (i % 2 == 0) == (k == 0);
            if (q ? !do_qemu : !do_ktstr)
                continue;
            Sample s = run_once(q ? qemu_argv(o) : ktstr_argv(o), q, o.timeout_s, o.memory_mib);
            say(fmt::format("bench-boot: {} {} {}", q ? "qemu-microvm" : "ktstr-vmm", i, describe(s)));
            if (s.status != 0 || !s.first_line)
                say(fmt::format("bench-boot: {} {} stderr: {}", q ? "qemu-microvm" : "ktstr-vmm", i, s.stderr_tail));
            (q ? qemu : ktstr).push_back(std::move(s));
        }
    }
    // Medians over the boots that worked; a hung or failed boot is
    // reported on its own line and counted, not timed.
    auto summary = [&](const char* name, const std::vector<Sample>& all) {
        std::vector<Sample> v;
        for (const auto& s : all)
            if (s.status == 0 && s.first_line)
                v.push_back(s);
        const auto first = spread_of(v, [](const Sample& s) { return s.first_line; });
        const auto port = spread_of(v, [](const Sample& s) { return s.first_port; });
        const auto exit = spread_of(v, [](const Sample& s) { return std::optional<double>(s.exit); });
        const auto rss = spread_of(
            v, [](const Sample& s) { return std::optional<double>(static_cast<double>(s.max_rss_kib) / 1024.0); });
        const auto own = spread_of(
            v, [](const Sample& s) { return std::optional<double>(static_cast<double>(s.own_peak_kib) / 1024.0); });
        say(fmt::format("bench-boot: summary {} n={} failed={} first_line median={:.3f} min={:.3f} max={:.3f}; "
                        "first_port median={:.3f} (n={}); exit median={:.3f} min={:.3f} max={:.3f}; "
                        "max_rss_mib median={:.1f} min={:.1f} max={:.1f}; "
                        "own_peak_mib median={:.1f} min={:.1f} max={:.1f}",
                        name, v.size(), all.size() - v.size(), first.median, first.min, first.max, port.median,
                        port.n, exit.median, exit.min, exit.max, rss.median, rss.min, rss.max, own.median, own.min,
                        own.max));
        return std::pair{first.median, exit.median};
    };
    if (do_ktstr && do_qemu) {
        const auto [kf, ke] = summary("ktstr-vmm", ktstr);
        const auto [qf, qe] = summary("qemu-microvm", qemu);
        say(fmt::format("bench-boot: ratio ktstr-vmm/qemu-microvm first_line={:.2f} exit={:.2f}", qf > 0 ? kf / qf : 0,
                        qe > 0 ? ke / qe : 0));
    } else {
        summary(do_qemu ? "qemu-microvm" : "ktstr-vmm", do_qemu ? qemu : ktstr);
    }
    if (!o.report.empty()) {
        std::ofstream f(o.report);
        for (const auto& l : lines)
            f << l << '\n';
        if (!f)
            throw std::runtime_error(fmt::format("bench-boot: {}: cannot write", o.report));
    }
    for (const auto* v : {&ktstr, &qemu})
        for (const auto& s : *v)
            if (s.status != 0 || !s.first_line)
                return 1;
    return 0;
}

int run_bench(BenchOptions o) {
    if (o.command.empty())
        o.command = {"sh", "-c", "echo bench-boot-ready"};
    if (o.which != "both" && o.which != "ktstr" && o.which != "qemu")
        throw UsageError("bench-boot: --which is both, ktstr or qemu");
    const auto placement = place_kvm(o.mode, "bench-boot");
    if (placement == KvmPlacement::host && !o.initramfs.empty())
        return run_inside(o);

    const auto k = vmm::kernel::resolve(o.kernel);
    const auto image = o.initramfs.empty() ? build_image(o, k) : fs::path(o.initramfs);
    for (const auto& p : {o.qemu, o.qemu_firmware})
        if (::access(p.c_str(), R_OK) != 0)
            throw UsageError(fmt::format("bench-boot: {}: {}", p, std::strerror(errno)));
    std::vector<std::string> args{"bench-boot", "--kvm", "host", "--kernel", k.bzimage.string(), "--initramfs",
                                  image.string(), "--cpus", std::to_string(o.cpus), "--memory",
                                  std::to_string(o.memory_mib), "--repeat", std::to_string(o.repeat), "--timeout",
                                  std::to_string(o.timeout_s), "--qemu", o.qemu, "--qemu-firmware", o.qemu_firmware,
                                  "--which", o.which};
    if (!o.report.empty()) {
        args.push_back("--report");
        args.push_back(fs::absolute(o.report).string());
    }
    if (!o.qemu_console.empty()) {
        args.push_back("--qemu-console");
        args.push_back(fs::absolute(o.qemu_console).string());
    }
    if (!o.qemu_append.empty())
        args.push_back("--qemu-append=" + o.qemu_append);
    args.push_back("--qemu-machine=" + o.qemu_machine);
    args.push_back("--");
    args.insert(args.end(), o.command.begin(), o.command.end());
    if (placement == KvmPlacement::host) {
        o.kernel = k.bzimage.string();
        o.initramfs = image.string();
        return run_inside(o);
    }
    vmm::emulated_host::Request req;
    req.arguments = std::move(args);
    if (!o.report.empty())
        req.outputs.push_back(fs::absolute(o.report));
    if (!o.qemu_console.empty())
        req.outputs.push_back(fs::absolute(o.qemu_console));
    // One VM at a time inside; QEMU's own overhead on top of the guest RAM.
    req.inner_memory_mib = o.memory_mib + 256;
    req.cpus = o.cpus;
    req.timeout = std::chrono::seconds(120 + 2ull * o.repeat * o.timeout_s);
    req.verbose = o.verbose;
    return vmm::emulated_host::run_in_emulated_host(req);
}

}  // namespace

Command add_bench_boot_command(CLI::App& root) {
    auto opts = std::make_shared<BenchOptions>();
    auto* app = root.add_subcommand("bench-boot", "");
    app->group("");  // hidden: a benchmark, documented in docs/benchmarks.md
    app->add_option("--kernel", opts->kernel, "");
    app->add_option("--cpus", opts->cpus, "")->check(CLI::Range(1u, 64u));
    app->add_option("--memory", opts->memory_mib, "")->check(CLI::Range(std::uint64_t{64}, std::uint64_t{65536}));
    app->add_option("--repeat", opts->repeat, "")->check(CLI::Range(1u, 1000u));
    app->add_option("--timeout", opts->timeout_s, "")->check(CLI::Range(1u, 86400u));
    add_kvm_option(*app, opts->mode);
    app->add_option("--qemu", opts->qemu, "");
    app->add_option("--qemu-firmware", opts->qemu_firmware, "");
    app->add_option("--which", opts->which, "");
    app->add_option("--report", opts->report, "");
    app->add_option("--qemu-console", opts->qemu_console, "");
    app->add_option("--qemu-append", opts->qemu_append, "");
    app->add_option("--qemu-machine", opts->qemu_machine, "");
    app->add_option("--initramfs", opts->initramfs, "");
    app->add_flag("-v,--verbose", opts->verbose, "");
    app->add_option("command", opts->command, "");
    return {app, [opts] { return run_bench(*opts); }};
}

}  // namespace ktstr::cli
