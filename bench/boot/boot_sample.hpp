// One boot of one VMM, timed from its output streams: the VMM runs as a
// child process (stdin /dev/null, stdout and stderr on pipes, and for
// QEMU the bulk port's frames on fd 3), and every time is seconds from
// its start.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ktstr::bench::boot {

struct BootSample {
    int status = -1;                   // the VMM's exit status (128+N: signal N)
    std::optional<int> guest_exit;     // the guest command's, where the VMM tells it
    std::optional<double> first_port;  // QEMU: ktstr-init's first write to the bulk port
    std::optional<double> first_line;  // the guest command's first stdout line
    std::optional<double> first_stdout;
    std::optional<double> last_stdout;
    double exit = 0;                   // the VMM process gone
    std::uint64_t stdout_bytes = 0;
    long max_rss_kib = 0;              // wait4's ru_maxrss (VmHWM), guest RAM included
    std::uint64_t own_peak_kib = 0;    // resident outside guest RAM, sampled (process_memory.hpp)
    // ktstr-vmm: its run result's boot timeline (seconds from its start):
    // the vCPUs started, ktstr-init's boot mark, the command's start.
    std::optional<double> vcpus_started;
    std::optional<double> init_started;
    std::optional<double> command_started;
    std::string own_peak_smaps;        // the smaps sample own_peak_kib came from (where it went)
    bool timed_out = false;
    std::string stderr_tail;           // the last 4 KiB

    // Exited 0 and printed its line: a boot that counts in the medians.
    bool worked() const { return status == 0 && first_line.has_value(); }
};

// How the VMM hands over the guest command's stdout.
enum class StdoutPath {
    own_stdout,  // ktstr-vmm: its own stdout is the command's
    bulk_port,   // QEMU: Stdout frames on fd 3 (the bulk port's chardev)
};

// Runs `argv` (argv[0] a path) to its end, killing it after `timeout_s`;
// its resident memory outside the `guest_ram_mib` mapping is sampled every
// 100 ms. Throws std::runtime_error when it cannot be started.
BootSample time_boot(std::span<const std::string> argv, StdoutPath path, unsigned timeout_s,
                     std::uint64_t guest_ram_mib);

}  // namespace ktstr::bench::boot
