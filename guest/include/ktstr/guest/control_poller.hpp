// The guest thread that watches the ring header's host-to-guest control
// bytes, as ktstr's init does:
//  - dump request (offset 12) == 'D': writes "D" to /proc/sysrq-trigger
//    (SysRq-D: sched_ext's state, or the held locks, into the kernel
//    log), clears the byte, and sends the kernel log that follows as
//    Dmesg frames (kernel_dump.hpp: until 300 ms quiet, 3 s, or 1 MiB;
//    the poller acts on nothing else meanwhile);
//  - stall request (offset 13) == 'S': creates /tmp/ktstr_stall (the
//    scheduler under test watches for it), clears the byte;
//  - signal slot 0 == 0xDD (graceful shutdown): calls the shutdown
//    callback once and stops polling.
// Other values are left alone. Paths come from paths() (the kernel log:
// paths().kmsg).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "ktstr/common/shm_ring.hpp"
#include "ktstr/guest/kernel_dump.hpp"

namespace ktstr::guest {

class ShmWriter;

struct ControlEvents {
    bool dump = false;      // a dump request was handled
    std::size_t dump_bytes = 0;  // kernel log sent for it
    bool stall = false;     // a stall request was handled
    bool shutdown = false;  // slot 0 holds the shutdown request
};

// One pass over the control bytes: acts on and clears what it finds.
ControlEvents poll_control_once(SharedRegion region, const KernelLogLimits& dump_limits = {});

class ControlPoller {
public:
    // Starts the polling thread. `writer` keeps the mapping alive.
    ControlPoller(std::shared_ptr<ShmWriter> writer, std::chrono::milliseconds interval,
                  std::function<void()> on_shutdown = {});
    ControlPoller(const ControlPoller&) = delete;
    ControlPoller& operator=(const ControlPoller&) = delete;
    ~ControlPoller();  // stops and joins

    void stop();
    std::uint64_t dumps() const noexcept { return dumps_.load(); }
    std::uint64_t stalls() const noexcept { return stalls_.load(); }
    bool shutdown_seen() const noexcept { return shutdown_.load(); }

private:
    void run();

    std::shared_ptr<ShmWriter> writer_;
    std::chrono::milliseconds interval_;
    std::function<void()> on_shutdown_;
    std::atomic<std::uint64_t> dumps_{0};
    std::atomic<std::uint64_t> stalls_{0};
    std::atomic<bool> shutdown_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ktstr::guest
