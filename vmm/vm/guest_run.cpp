#include "vm/guest_run.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <unistd.h>

#include "emulated_host/exit_line.hpp"
#include "vm/bulk_port_reader.hpp"
#include "vm/console_watch.hpp"
#include "vm/run_verdict.hpp"

namespace ktstr::vmm::vm {
namespace {

using clock = std::chrono::steady_clock;

// After a panic line, how long the reset from panic=-1 may take before the
// VM is stopped anyway (a panic that hangs instead of resetting).
constexpr auto panic_grace = std::chrono::seconds(3);

constexpr std::uint32_t bulk_port = 1;

void say(const std::string& line) {
    fmt::print(stderr, "ktstr-vmm: {}\n", line);
    std::fflush(stderr);
}

double seconds_since(clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
}

}  // namespace

int run_guest(GuestRunOptions options, const x86_64::BzImage& kernel, byte_view initrd) {
    const auto start = clock::now();
    const bool verbose = options.verbose;

    std::atomic<Machine*> machine_ptr{nullptr};
    ConsoleWatch com1(std::move(options.console_log), verbose, [&](std::string_view) {
        if (Machine* m = machine_ptr.load())
            m->limit_deadline(clock::now() + panic_grace);
    });

    // COM2's sink runs with the UART locked: one caller at a time.
    std::vector<std::string> com2_lines;
    emulated_host::ExitLineScanner com2([&](std::string_view line) {
        if (verbose)
            fmt::print(stderr, "ktstr-vmm: com2: {}\n", line);
        if (com2_lines.size() < 64)
            com2_lines.emplace_back(line);
    });
    std::mutex com2_mutex;

    BulkPortReader bulk(STDOUT_FILENO, STDERR_FILENO);

    MachineOutputs outputs;
    outputs.com1 = [&](byte_view b) { com1.feed(b); };
    outputs.com2 = [&](byte_view b) {
        std::lock_guard lock(com2_mutex);
        com2.feed(b);
    };
    outputs.console = [&](std::uint32_t port, byte_view b) {
        if (port == bulk_port)
            bulk.push(b);
    };

    Machine machine(options.machine, kernel, initrd, std::move(outputs));
    machine_ptr.store(&machine);
    const auto built = clock::now();
    if (verbose) {
        const auto& map = machine.memory_map();
        say(fmt::format("{} vCPUs, {} MiB of RAM, SHM {:#x}+{:#x}, initrd {} KiB; VM built in {:.3f} s", map.cpus,
                        map.ram_bytes() >> 20, map.shm.start, map.shm.size, initrd.size() >> 10,
                        std::chrono::duration<double>(built - start).count()));
        say(fmt::format("kernel command line: {}", map.cmdline));
    }

    const Stop stop = machine.run(start + options.timeout);
    const BulkPortResult bulk_result = bulk.finish();
    {
        std::lock_guard lock(com2_mutex);
        com2.finish();
    }

    RunEvidence e;
    e.stop = stop;
    e.exit_frame = bulk_result.exit_code;
    e.exec_exit_frame = bulk_result.exec_exit_code;
    e.com2_exit = com2.exit_code();
    e.panic_line = com1.panic_line();
    if (auto last = com1.last_lines(1); !last.empty())
        e.last_console_line = last.back();
    e.timeout = options.timeout;
    const RunVerdict v = decide_run_verdict(e);

    // Without the bulk port's exit, COM2's lines (init's errors, crash
    // reports) are the guest's last word.
    if (!verbose && !bulk_result.exit_code && !bulk_result.exec_exit_code)
        for (const auto& line : com2_lines)
            say(fmt::format("com2: {}", line));
    if (verbose) {
        say(fmt::format("guest stopped: {}{} after {:.3f} s, {} exits; {} frames on the bulk port ({} CRC errors)",
                        stop_reason_name(stop.reason), stop.detail.empty() ? "" : " (" + stop.detail + ")",
                        seconds_since(start), machine.exits(), bulk_result.frames, bulk_result.crc_errors));
    }
    if (!v.reason.empty())
        say(v.reason);
    return v.status;
}

}  // namespace ktstr::vmm::vm
