// The two one-byte signal slots in the SHM ring header (offsets 14 and
// 15): slot 0 host to guest (0xDD asks for a graceful shutdown), slot 1
// guest to host (2 says the probes are ready). Accesses are atomic
// (acquire loads, release stores).
//
// A slot number >= shm::signal_slot_count throws std::invalid_argument.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "ktstr/common/shm_ring.hpp"

namespace ktstr::guest {

enum class SignalWait {
    signalled,    // the slot became non-zero
    timed_out,
    unavailable,  // no SHM ring in this guest
};

const char* to_string(SignalWait w) noexcept;

// Polls `slot` until it is non-zero or `timeout` passes (a zero timeout
// checks once). Never sleeps past the deadline.
SignalWait wait_for_signal(SharedRegion region, std::size_t slot, std::chrono::milliseconds timeout);
void signal(SharedRegion region, std::size_t slot, std::uint8_t value = 1);
std::uint8_t read_signal(SharedRegion region, std::size_t slot);

// The same on the process-wide ring (shm_writer()): without a ring,
// wait_for_signal returns unavailable, signal does nothing and returns
// false, read_signal returns 0.
SignalWait wait_for_signal(std::size_t slot, std::chrono::milliseconds timeout);
bool signal(std::size_t slot, std::uint8_t value = 1);
std::uint8_t read_signal(std::size_t slot);

}  // namespace ktstr::guest
