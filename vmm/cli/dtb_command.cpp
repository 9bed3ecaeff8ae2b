// `ktstr-vmm dtb`: writes the aarch64 device tree blob a guest of the given
// shape would boot with, for inspection (`dtc -I dtb -O dts FILE`).
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>

#include "arch/aarch64/fdt_builder.hpp"
#include "arch/aarch64/layout.hpp"
#include "cli/command.hpp"

namespace ktstr::cli {
namespace {

// "4096", "0x1000", "64K", "1M", "2GiB": bytes, binary suffixes.
std::uint64_t parse_size(const char* option, const std::string& text) {
    auto bad = [&] {
        return UsageError(fmt::format("dtb: {} '{}' is not a size (bytes, 0x hex, or a number with K, M or G)",
                                      option, text));
    };
    std::string_view s = text;
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        base = 16;
        s.remove_prefix(2);
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
    if (ec != std::errc() || end == s.data())
        throw bad();
    std::string_view suffix(end, static_cast<std::size_t>(s.data() + s.size() - end));
    unsigned shift = 0;
    if (!suffix.empty() && base == 10) {
        switch (suffix.front()) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: throw bad();
        }
        suffix.remove_prefix(1);
        if (suffix != "" && suffix != "iB" && suffix != "B")
            throw bad();
    } else if (!suffix.empty()) {
        throw bad();
    }
    if (value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        throw UsageError(fmt::format("dtb: {} '{}' is too large", option, text));
    return value << shift;
}

// The output file (or stdout for "-"), closed on scope exit.
class OutputFile {
public:
    explicit OutputFile(const std::string& path) : path_(path) {
        if (path == "-") {
            fd_ = STDOUT_FILENO;
            return;
        }
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw UsageError(fmt::format("dtb: {}: cannot open for writing: {}", path, std::strerror(errno)));
    }
    ~OutputFile() {
        if (fd_ > STDERR_FILENO)
            ::close(fd_);
    }
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void write_all(byte_view data) {
        while (!data.empty()) {
            ssize_t n = ::write(fd_, data.data(), data.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                throw UsageError(fmt::format("dtb: {}: write failed: {}", path_, std::strerror(errno)));
            data = data.subspan(static_cast<std::size_t>(n));
        }
    }
    void close() {
        int fd = fd_;
        fd_ = -1;
        if (fd > STDERR_FILENO && ::close(fd) != 0)
            throw UsageError(fmt::format("dtb: {}: write failed: {}", path_, std::strerror(errno)));
    }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace

Command add_dtb_command(CLI::App& root) {
    struct Options {
        std::uint32_t cpus = 1;
        std::uint64_t memory_mib = 256;
        std::string shm_size = "1M";
        std::string initrd_size = "0";
        std::string cmdline;
        std::string output;
    };
    auto opts = std::make_shared<Options>();
    auto* app = root.add_subcommand("dtb", "Write the aarch64 device tree blob for a guest of the given shape");
    app->footer(
        "RAM starts at 0x40000000; the SHM region is the top --shm-size bytes of --memory, outside every /memory "
        "node, reserved by a no-map /reserved-memory node and a /memreserve/ entry, and named on the command line "
        "as KTSTR_SHM_BASE/KTSTR_SHM_SIZE (docs/memory-layout.md). Inspect the blob with dtc -I dtb -O dts FILE.\n"
        "Exit status: 0 when the blob was written, 2 for bad arguments or an unwritable output.");
    app->add_option("--cpus", opts->cpus, "Number of vCPUs (1 to 512)")->capture_default_str();
    app->add_option("--memory", opts->memory_mib, "Guest memory in MiB, the SHM region included")
        ->capture_default_str();
    app->add_option("--shm-size", opts->shm_size, "SHM region size in bytes: a multiple of 4096, K/M/G suffixes")
        ->capture_default_str();
    app->add_option("--initrd-size", opts->initrd_size, "initrd size in bytes (0: no initrd), K/M/G suffixes")
        ->capture_default_str();
    app->add_option("--cmdline", opts->cmdline,
                    "Extra kernel command line, after \"console=ttyS0 panic=-1\" and the KTSTR_* parameters");
    app->add_option("-o,--output", opts->output, "Output file, or - for standard output")->required();
    return {app, [opts] {
                namespace a64 = vmm::aarch64;
                a64::LayoutRequestAarch64 req;
                req.cpus = opts->cpus;
                if (opts->memory_mib > std::numeric_limits<std::uint64_t>::max() / a64::mib)
                    throw UsageError(fmt::format("dtb: --memory {} MiB is too large", opts->memory_mib));
                req.memory_bytes = opts->memory_mib * a64::mib;
                req.shm_bytes = parse_size("--shm-size", opts->shm_size);
                req.initrd_bytes = parse_size("--initrd-size", opts->initrd_size);
                req.cmdline_extra = opts->cmdline;
                byte_buffer blob;
                try {
                    blob = a64::build_fdt(a64::layout_aarch64(req));
                } catch (const a64::LayoutError& e) {
                    throw UsageError(fmt::format("dtb: {}", e.what()));
                }
                OutputFile out(opts->output);
                out.write_all(blob);
                out.close();
                return 0;
            }};
}

}  // namespace ktstr::cli
