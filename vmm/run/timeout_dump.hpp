// The sched_ext dump before a timeout stops the guest. When the command's
// time is up and a scheduler runs, the guest is first asked for a dump
// (the SHM ring's dump request: ktstr-init writes 'D' to
// /proc/sysrq-trigger and sends the kernel log back as Dmesg frames), and
// stopped once that log has gone quiet, or after a grace period at most:
// a stuck scheduler is what a timeout most often means, and its state is
// what the developer needs.
//
// One thread, started by arm() (the command's start); nothing happens
// without it. The callbacks run on that thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace ktstr::vmm::run {

class TimeoutDump {
public:
    using clock = std::chrono::steady_clock;
    struct Config {
        std::function<bool()> request_dump;  // false: the guest cannot be asked (no SHM ring)
        std::function<void()> stop;          // stop the guest now, as a timeout
        std::chrono::milliseconds quiet{1500};  // no more Dmesg for this long: the dump is complete
        std::chrono::milliseconds grace{15000};  // at most this long after the request
    };

    explicit TimeoutDump(Config config);
    ~TimeoutDump();  // stop()
    TimeoutDump(const TimeoutDump&) = delete;
    TimeoutDump& operator=(const TimeoutDump&) = delete;

    // The command's time runs out at `at`: the first call starts the
    // thread; later calls are ignored (the deadline never moves).
    void arm(clock::time_point at);
    // Dmesg bytes arrived (any thread).
    void note_output();
    // The run is over: nothing more happens (any thread, never blocks).
    void cancel();
    // cancel(), then wait for the thread: once it returns no callback runs
    // any more. From the thread that owns the object; idempotent. arm()
    // and note_output() stay safe to call afterwards (they do nothing).
    void stop();

    // After cancel(): whether the dump was asked for (final from then on).
    bool requested() const;

private:
    void run(clock::time_point at);

    Config config_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool cancelled_ = false;
    bool requested_ = false;
    std::optional<clock::time_point> last_output_;
    std::thread thread_;
};

}  // namespace ktstr::vmm::run
