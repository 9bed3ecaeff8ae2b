// A gate a test holds shut so another thread stops at a known point: the
// order is set by the test, never by which thread is faster.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ktstr::host::test {

class Gate {
public:
    // Called on the held thread: counts the arrival, waits until open.
    void pass() {
        std::unique_lock lock(mutex_);
        ++entered_;
        changed_.notify_all();
        changed_.wait(lock, [this] { return open_; });
    }
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    // Opens the gate when it goes out of scope: declared after what holds
    // a thread at the gate, a failed REQUIRE cannot leave that thread
    // waiting in a destructor's join.
    class OpenOnExit {
    public:
        explicit OpenOnExit(Gate& g) : gate_(g) {}
        ~OpenOnExit() { gate_.open(); }
        OpenOnExit(const OpenOnExit&) = delete;
        OpenOnExit& operator=(const OpenOnExit&) = delete;

    private:
        Gate& gate_;
    };

    // Until `n` threads have arrived; false after a generous deadline (a
    // slow machine makes the test slower, not wrong).
    bool wait_entered(int n, std::chrono::seconds deadline = std::chrono::seconds(60)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, deadline, [&] { return entered_ >= n; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int entered_ = 0;
    bool open_ = false;
};

}  // namespace ktstr::host::test
