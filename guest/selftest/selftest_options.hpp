// ktstr-selftest's command line (docs/guest.md lists every flag).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::selftest {

struct SelftestOptions {
    bool senders = false;       // every bulk sender once
    bool shm = false;           // a few frames into the SHM ring
    bool shm_burst = false;     // fill the ring until writes drop
    bool signal = false;        // signal slot 1 = 2 (probes ready)
    std::optional<std::chrono::milliseconds> wait_signal;  // wait for slot 0
    bool snapshot = false;      // capture request, and one of unknown kind 99
    std::chrono::milliseconds snapshot_timeout{60000};
    std::optional<std::uint64_t> stdout_bytes;  // deterministic pattern on stdout
    std::optional<std::uint64_t> bulk_bytes;    // the same pattern as Stdout frames, straight to the port
    bool garbage = false;              // malformed frames on the bulk port
    bool garbage_huge_length = false;  // a header announcing 4 GiB (terminal for the stream)
    bool garbage_ring = false;         // a torn ring header (terminal for the ring)
    std::optional<std::int32_t> sched_exit;
    bool crash = false;          // install the crash hook, then SIGSEGV
    std::int32_t exit_code = 0;  // exit code when every step succeeded
    bool help = false;
};

// Throws std::invalid_argument with a one-line reason. Without any step
// flag, the steps of --all run.
SelftestOptions parse_selftest_options(const std::vector<std::string>& args);

// "64M" style sizes: decimal, optional K/M/G (powers of 1024), at most 16 GiB.
// Errors name `flag`.
std::uint64_t parse_size(const std::string& text, const std::string& flag);

extern const char* const selftest_usage;

}  // namespace ktstr::selftest
