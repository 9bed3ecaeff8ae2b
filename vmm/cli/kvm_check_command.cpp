// `ktstr-vmm kvm-check`: proves that KVM works here, or through the
// emulated KVM host where /dev/kvm is unusable. Runs a few real-mode
// instructions doing port I/O in a one-vCPU VM and reports what it saw
// (vmm/kvm/kvm_check.hpp).
#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/core.h>
#include <linux/kvm.h>

#include "cli/command.hpp"
#include "cli/kvm_option.hpp"
#include "emulated_host/emulated_host.hpp"
#include "emulated_host/inner_arguments.hpp"
#include "initramfs/guest_programs.hpp"
#include "kernel/kernel_arch.hpp"
#include "kvm/kvm_check.hpp"
#include "kvm/kvm_error.hpp"
#include "kvm/kvm_vcpu.hpp"

namespace ktstr::cli {
namespace {

namespace kvm = vmm::kvm;

struct KvmCheckOptions {
    KvmMode mode = KvmMode::automatic;
    std::string arch;  // empty: this machine's
    unsigned timeout_s = 120;
    std::string report;
    bool verbose = false;
    // Test and experiment knobs (hidden from --help).
    std::string code_file;
    std::string expect;
    bool hang = false;
    int exit_status = -1;
    std::uint64_t stdout_bytes = 0;
};

// The test knob --test-stdout-bytes: N bytes of a pattern a test can
// check ("0123456789abcdef" repeated), written after a successful check.
void write_pattern(std::uint64_t n) {
    static constexpr char pattern[] = "0123456789abcdef";
    std::string block;
    for (int i = 0; i < 4096; ++i)
        block += pattern;
    while (n > 0) {
        const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n, block.size()));
        std::fwrite(block.data(), 1, k, stdout);
        n -= k;
    }
    std::fflush(stdout);
}

std::vector<std::uint8_t> parse_hex_bytes(const std::string& text) {
    std::vector<std::uint8_t> out;
    std::string digits;
    for (char c : text)
        if (c != ' ' && c != ',' && c != ':')
            digits.push_back(c);
    if (digits.starts_with("0x"))
        digits.erase(0, 2);
    if (digits.empty() || digits.size() % 2 != 0)
        throw UsageError(fmt::format("kvm-check: --expect-port-bytes '{}' is not a list of hex bytes", text));
    for (std::size_t i = 0; i < digits.size(); i += 2) {
        std::uint8_t v = 0;
        auto [end, ec] = std::from_chars(digits.data() + i, digits.data() + i + 2, v, 16);
        if (ec != std::errc() || end != digits.data() + i + 2)
            throw UsageError(fmt::format("kvm-check: --expect-port-bytes '{}' is not a list of hex bytes", text));
        out.push_back(v);
    }
    return out;
}

std::vector<std::uint8_t> read_code(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw UsageError(fmt::format("kvm-check: {}: cannot open: {}", path, std::strerror(errno)));
    std::vector<std::uint8_t> code;
    char c;
    while (code.size() <= kvm::check_max_code && f.get(c))
        code.push_back(static_cast<std::uint8_t>(c));
    if (code.empty() || code.size() > kvm::check_max_code)
        throw UsageError(fmt::format("kvm-check: {}: a program must be 1 to {} bytes", path, kvm::check_max_code));
    return code;
}

std::string hex(const std::vector<std::uint8_t>& b) {
    std::string s;
    for (auto v : b)
        s += fmt::format("{}{:02x}", s.empty() ? "" : " ", v);
    return s.empty() ? "nothing" : s;
}

int run_here(const KvmCheckOptions& o) {
    kvm::KvmCheckOptions ko;
    ko.code = o.code_file.empty() ? kvm::check_program(o.hang) : read_code(o.code_file);
    ko.timeout = std::chrono::seconds(o.timeout_s);
    // Flushed per line: inside the emulated host stdout is a virtio port,
    // fully buffered otherwise, and the caller should see progress live.
    ko.on_event = [](const std::string& s) {
        fmt::print("kvm-check: {}\n", s);
        std::fflush(stdout);
    };
    std::vector<std::uint8_t> expected;
    if (!o.expect.empty())
        expected = parse_hex_bytes(o.expect);
    else if (o.code_file.empty())
        expected = kvm::check_program_output();

    kvm::KvmCheckResult r;
    try {
        r = kvm::run_kvm_check(ko);
    } catch (const kvm::KvmError& e) {
        fmt::print(stderr, "ktstr-vmm kvm-check: KVM unusable: {}\n", e.what());
        return 1;
    }

    std::string failure;
    if (r.timed_out)
        failure = fmt::format("the guest did not halt within {} s (rip {:#x})", o.timeout_s, r.final_rip);
    else if (r.exit_limit)
        failure = fmt::format("the guest did not halt within {} exits", r.exits);
    else if (r.final_exit != kvm::check_final_exit)
        failure = fmt::format("unexpected exit {} at rip {:#x}", kvm::exit_reason_name(r.final_exit), r.final_rip);
    else if (!expected.empty() && r.port_bytes != expected)
        failure = fmt::format("port {:#x} saw {}, expected {}", kvm::check_output_port, hex(r.port_bytes), hex(expected));

    if (!o.report.empty()) {
        std::ofstream f(o.report, std::ios::trunc);
        f << "api_version=" << r.api_version << "\n"
          << "port_bytes=" << hex(r.port_bytes) << "\n"
          << "exits=" << r.exits << "\n"
          << "final_exit=" << kvm::exit_reason_name(r.final_exit) << "\n"
          << "result=" << (failure.empty() ? "ok" : "failed") << "\n";
        if (!f)
            throw UsageError(fmt::format("kvm-check: {}: cannot write the report", o.report));
    }
    if (!failure.empty()) {
        fmt::print(stderr, "ktstr-vmm kvm-check: failed: {}\n", failure);
        return 1;
    }
    fmt::print("kvm-check: ok: port {:#x} saw {}, then {} after {} exits\n", kvm::check_output_port,
               hex(r.port_bytes), kvm::exit_reason_name(r.final_exit), r.exits);
    std::fflush(stdout);
    write_pattern(o.stdout_bytes);
    return o.exit_status >= 0 ? o.exit_status : 0;
}

}  // namespace

Command add_kvm_check_command(CLI::App& root, const std::vector<std::string>& arguments) {
    auto opts = std::make_shared<KvmCheckOptions>();
    auto* app = root.add_subcommand(
        "kvm-check", "Check that KVM works: run a few real-mode instructions doing port I/O in a one-vCPU VM");
    add_kvm_option(*app, opts->mode);
    app->add_option("--arch", opts->arch,
                    "The VM's architecture: x86_64 or arm64 (default: this machine's); another one than this "
                    "machine's runs in its emulated KVM host (arm64: MMIO instead of port I/O, PSCI SYSTEM_OFF "
                    "instead of HLT)")
        ->check(CLI::IsMember(std::vector<std::string>(std::begin(vmm::kernel::arch_names), std::end(vmm::kernel::arch_names))))
        ->type_name("ARCH");
    app->add_option("--timeout", opts->timeout_s,
                    "Give up after this many seconds (with the emulated host: from QEMU's start, boot included)")
        ->check(CLI::Range(1u, 86400u))
        ->capture_default_str();
    app->add_option("--report", opts->report, "Also write what was seen to FILE (key=value lines)");
    app->add_flag("-v,--verbose", opts->verbose, "With the emulated host: show its kernel console and QEMU's messages");
    // Hidden knobs for tests: a program from a file, the bytes it must
    // write, a guest that never halts, an exit status and a bulk of
    // stdout after success.
    app->add_option("--code", opts->code_file, "")->group("");
    app->add_option("--expect-port-bytes", opts->expect, "")->group("");
    app->add_flag("--test-hang", opts->hang, "")->group("");
    app->add_option("--test-exit-status", opts->exit_status, "")->group("")->check(CLI::Range(0, 255));
    app->add_option("--test-stdout-bytes", opts->stdout_bytes, "")->group("");

    return {app, [opts, &arguments] {
                namespace kn = vmm::kernel;
                const kn::KernelArch arch = opts->arch.empty() ? kn::native_arch : *kn::arch_from_name(opts->arch);
                const bool native = arch == kn::native_arch;
                if (!native && arch != kn::KernelArch::arm64) {
                    fmt::print(stderr, "ktstr-vmm kvm-check: --arch {}: checked on {} machines only\n", opts->arch,
                               kn::arch_name(arch));
                    return 2;
                }
                if (!native && opts->mode == KvmMode::host) {
                    fmt::print(stderr, "ktstr-vmm kvm-check: --kvm host checks this machine's {} KVM only\n",
                               kn::arch_name(kn::native_arch));
                    return 2;
                }
                if (native && place_kvm(opts->mode, "kvm-check") == KvmPlacement::host)
                    return run_here(*opts);
                vmm::emulated_host::Request req;
                req.arch = arch;
                if (!native) {
                    // The inner kvm-check is the other architecture's ktstr-vmm
                    // (its --arch is then its own: it runs there on KVM).
                    try {
                        req.ktstr_vmm = vmm::initramfs::ktstr_vmm_program_for(arch);
                    } catch (const std::runtime_error& e) {
                        fmt::print(stderr, "ktstr-vmm kvm-check: {}\n", e.what());
                        return 2;
                    }
                    req.program = req.ktstr_vmm;
                }
                req.arguments = vmm::emulated_host::arguments_for_inner_host(std::span(arguments).subspan(arguments.empty() ? 0 : 1),
                                                         "kvm-check");
                if (!opts->report.empty())
                    req.outputs.push_back(opts->report);
                req.timeout = std::chrono::seconds(opts->timeout_s);
                req.verbose = opts->verbose;
                return vmm::emulated_host::run_in_emulated_host(req);
            }};
}

}  // namespace ktstr::cli
