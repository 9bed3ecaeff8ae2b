// The live drain of the SHM ring: one pass copies every complete message
// out of guest memory with the common ring code (ring_drain, consume mode),
// stores the new read_ptr so the guest can reuse the space, and reports
// what changed since the previous pass: new frames, the guest's drop
// counter, and the header's status (a torn or corrupt header ends the pass
// without touching read_ptr; the next pass re-reads it).
//
// Not thread-safe: one thread (the host loop's) drains.
#pragma once

#include <cstdint>
#include <vector>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/shm_ring.hpp"

namespace ktstr::host {

struct ShmDrainPass {
    std::vector<Frame> frames;
    RingDrainStatus status = RingDrainStatus::ok;
    bool status_changed = false;     // status differs from the previous pass's (first pass: from ok)
    std::uint64_t drops = 0;         // the guest's drop counter as read (0 without a valid magic)
    std::uint64_t new_drops = 0;     // its increase since the previous pass
    std::uint64_t bytes_pending = 0; // unread bytes of a message still being written
};

struct ShmDrainStats {
    std::uint64_t passes = 0;
    std::uint64_t entries = 0;
    std::uint64_t crc_errors = 0;
    std::uint64_t payload_bytes = 0;
    std::uint64_t drops = 0;              // the guest's counter, last read under a valid magic
    std::uint64_t bad_header_passes = 0;  // too small, bad magic, bad capacity, used > capacity
    std::uint64_t torn_length_passes = 0; // a message length beyond the ring
    std::uint64_t status_changes = 0;
    RingDrainStatus last_status = RingDrainStatus::ok;
    RingDrainStatus last_error = RingDrainStatus::ok;  // the last status other than ok
    std::uint64_t bytes_pending = 0;      // after the last pass
};

class ShmDrain {
public:
    explicit ShmDrain(SharedRegion region) noexcept : region_(region) {}

    ShmDrainPass drain();

    const ShmDrainStats& stats() const noexcept { return stats_; }
    SharedRegion region() const noexcept { return region_; }

private:
    SharedRegion region_;
    ShmDrainStats stats_;
};

}  // namespace ktstr::host
