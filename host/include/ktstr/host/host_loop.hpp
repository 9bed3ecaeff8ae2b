// The host loop: one Boost.Asio io_context on its own thread that owns both
// channels of a running guest and everything they feed.
//
//   bulk: device sink -> bulk_transmit() -> BulkChannel (queue, wake)
//         -> TLV assembler -> Dispatcher -> subscribers
//   SHM:  guest memory -> ShmDrain on a timer (and once after the vCPUs
//         stop) -> Dispatcher -> subscribers
//   snapshot reply: SnapshotResponder -> BulkChannel::send -> send_to_guest
//         (a capture's files are written on a capture thread; its reply
//         is posted back to the loop once they are on disk)
//
// Subscribers wired here: every frame goes to the message log (when there
// is one) and the run recorder; SOUT/SERR payloads are written to the
// stdout/stderr sinks in arrival order, SCLG/DMSG to theirs; SCDX calls stop_vm once; CRSH is
// printed on the diagnostics sink (escaped, every line prefixed:
// terminal_text.hpp); LIFE is reported through on_lifecycle and, with
// verbose, as an escaped line on the diagnostics sink; SNRQ is answered.
// Everything else is counted and logged.
//
// Use, from the VMM:
//   1. construct (after the SHM ring header was written: the VMM does it
//      when it maps the region), optionally add subscribers through
//      dispatcher(), start();
//   2. the console's transmit sink calls bulk_transmit() for port 1;
//      send_to_guest pushes into port 1's receive side;
//   3. after every vCPU thread has stopped (so no sink call is running or
//      will come), stop_after_vcpus() drains both channels one last time,
//      waits for captures still being written, stops and joins the loop thread and returns the run result.
// Callbacks (stop_vm, sinks, on_lifecycle, send_to_guest, subscribers) run
// on the loop thread; they must not block for long and must not call
// stop_after_vcpus() or destroy the loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "ktstr/common/bytes.hpp"
#include "ktstr/host/bulk_channel.hpp"
#include "ktstr/host/dispatcher.hpp"
#include "ktstr/common/guest_memory.hpp"
#include "ktstr/host/output_sink.hpp"
#include "ktstr/host/run_result.hpp"

namespace ktstr::host {

struct HostLoopConfig {
    GuestMemory memory;                // the VMM's guest mappings, the SHM region's included
    std::uint64_t shm_base = 0;        // guest-physical start of the SHM region
    std::uint64_t shm_size = 0;        // 0: no SHM ring; else its header is written
                                       // (common ring_init) before any vCPU runs
    std::chrono::microseconds shm_poll_interval{1000};

    BulkChannelConfig bulk;
    SendToGuest send_to_guest;         // port 1 receive (VirtioConsole::queue_receive(1, ...))
    std::function<void()> stop_vm;     // SCDX arrived: stop the VM early (called once)

    OutputSink stdout_sink;            // SOUT payloads; default fd 1
    OutputSink stderr_sink;            // SERR payloads; default fd 2
    OutputSink diagnostics;            // the host's own lines (crash reports, verbose); default fd 2
    OutputSink sched_log_sink;         // SCLG payloads (the scheduler's output); empty: not kept
    OutputSink dmesg_sink;             // DMSG payloads (the guest's kernel log, a sched_ext dump); empty: not kept
    std::function<void(const LifecycleStage&)> on_lifecycle;  // may be empty
    bool verbose = false;

    // Snapshot captures go under output_dir/snapshots (created by the
    // first capture; without output_dir captures answer ERR). The message
    // log goes to messages_path; empty: there is none.
    std::filesystem::path output_dir;
    std::filesystem::path messages_path;
    std::uint64_t message_log_max_bytes = 256ull << 20;  // MessageLog's cap (message_log.hpp)
    std::size_t max_snapshot_captures = 64;
    std::uint64_t max_snapshot_bytes = 1ull << 30;       // all captures' files together
    std::size_t max_pending_captures = 4;                // being written at once (snapshot_responder.hpp)
    std::function<void()> before_capture_write;          // test seam (snapshot_responder.hpp)

    // Boot and run times count from here; default: construction.
    std::optional<std::chrono::steady_clock::time_point> start_time;
    RunLimits limits;
};

class HostLoop {
public:
    // Throws std::invalid_argument when the SHM range is not inside one
    // guest mapping or the interval is not positive, std::runtime_error
    // when the message log cannot be created.
    explicit HostLoop(HostLoopConfig config);
    // Stops and joins the loop thread without a final drain if
    // stop_after_vcpus() was not called.
    ~HostLoop();
    HostLoop(const HostLoop&) = delete;
    HostLoop& operator=(const HostLoop&) = delete;

    // Add subscribers before start(); throws std::logic_error after.
    Dispatcher& dispatcher();
    // Starts the loop thread and the SHM timer. At most once.
    void start();

    // --- any thread ---
    // The console device's transmit sink for port 1. Never blocks for
    // long; false when the bytes were refused (backlog full, stopped) and
    // counted.
    bool bulk_transmit(byte_view bytes) noexcept;
    // Bytes handed over that the loop has not yet taken.
    std::size_t bulk_backlog_bytes() const;
    // Host -> guest control bytes (shm_control.hpp); false without SHM.
    bool signal_guest(std::size_t slot, std::uint8_t value) noexcept;
    bool request_dump() noexcept;
    bool request_stall() noexcept;

    // Once every vCPU has stopped: refuses further bulk_transmit, feeds
    // every queued bulk byte through, drains the SHM ring one last time,
    // stops and joins the loop thread and returns the run result. Later
    // calls return the same result. Works without start() too (the final
    // pass then runs on the caller's thread). The reference lives as long
    // as the loop: the result is not copied (it may hold megabytes of
    // guest text, RunLimits::max_kept_bytes).
    const RunResult& stop_after_vcpus();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ktstr::host
