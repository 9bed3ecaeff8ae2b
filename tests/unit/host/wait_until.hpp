// Waits for a condition another thread makes true, with a generous
// deadline instead of a timing assertion: a slow machine only makes the
// test slower, never wrong.
#pragma once

#include <chrono>
#include <thread>

namespace ktstr::host::test {

template <typename Pred>
bool wait_until(Pred pred, std::chrono::seconds deadline = std::chrono::seconds(60)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end)
            return pred();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace ktstr::host::test
