#include "ktstr/guest/signal_slots.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <thread>

#include "ktstr/guest/shm_writer.hpp"

namespace ktstr::guest {
namespace {

void check_slot(std::size_t slot) {
    if (slot >= shm::signal_slot_count)
        throw std::invalid_argument("signal slot " + std::to_string(slot) + " out of range (0.." +
                                    std::to_string(shm::signal_slot_count - 1) + ")");
}

}  // namespace

const char* to_string(SignalWait w) noexcept {
    switch (w) {
    case SignalWait::signalled: return "signalled";
    case SignalWait::timed_out: return "timed-out";
    case SignalWait::unavailable: return "unavailable";
    }
    return "unknown";
}

SignalWait wait_for_signal(SharedRegion region, std::size_t slot, std::chrono::milliseconds timeout) {
    check_slot(slot);
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    // The host writes the slot at any time; a short poll keeps the
    // latency low without a wake-up mechanism in the ring.
    constexpr auto interval = std::chrono::milliseconds(5);
    for (;;) {
        if (ring_read_signal(region, slot) != 0)
            return SignalWait::signalled;
        const auto now = clock::now();
        if (now >= deadline)
            return SignalWait::timed_out;
        std::this_thread::sleep_for(std::min<clock::duration>(interval, deadline - now));
    }
}

void signal(SharedRegion region, std::size_t slot, std::uint8_t value) {
    check_slot(slot);
    ring_signal(region, slot, value);
}

std::uint8_t read_signal(SharedRegion region, std::size_t slot) {
    check_slot(slot);
    return ring_read_signal(region, slot);
}

SignalWait wait_for_signal(std::size_t slot, std::chrono::milliseconds timeout) {
    check_slot(slot);
    auto w = shm_writer();
    return w ? wait_for_signal(w->region(), slot, timeout) : SignalWait::unavailable;
}

bool signal(std::size_t slot, std::uint8_t value) {
    check_slot(slot);
    auto w = shm_writer();
    if (!w)
        return false;
    signal(w->region(), slot, value);
    return true;
}

std::uint8_t read_signal(std::size_t slot) {
    check_slot(slot);
    auto w = shm_writer();
    return w ? read_signal(w->region(), slot) : 0;
}

}  // namespace ktstr::guest
