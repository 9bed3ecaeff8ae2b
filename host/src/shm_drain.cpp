#include "ktstr/host/shm_drain.hpp"

namespace ktstr::host {
namespace {

// Whether the pass read the header under a valid magic, so its drop
// counter means something.
bool drops_valid(RingDrainStatus s) noexcept {
    return s != RingDrainStatus::region_too_small && s != RingDrainStatus::bad_magic;
}

}  // namespace

ShmDrainPass ShmDrain::drain() {
    auto r = ring_drain(region_, DrainMode::consume);

    ShmDrainPass pass;
    pass.status = r.status;
    pass.status_changed = r.status != stats_.last_status;
    pass.bytes_pending = r.bytes_pending;
    if (drops_valid(r.status)) {
        pass.drops = r.drops;
        // The counter is the guest's to write; a value going backwards is
        // reported as no new drops rather than as a huge unsigned jump.
        pass.new_drops = r.drops > stats_.drops ? r.drops - stats_.drops : 0;
        stats_.drops = r.drops;
    }

    ++stats_.passes;
    if (pass.status_changed)
        ++stats_.status_changes;
    stats_.last_status = r.status;
    if (r.status != RingDrainStatus::ok)
        stats_.last_error = r.status;
    if (r.status == RingDrainStatus::torn_length)
        ++stats_.torn_length_passes;
    else if (r.status != RingDrainStatus::ok)
        ++stats_.bad_header_passes;
    stats_.bytes_pending = r.bytes_pending;
    for (const auto& f : r.frames) {
        ++stats_.entries;
        stats_.payload_bytes += f.payload.size();
        if (!f.crc_ok)
            ++stats_.crc_errors;
    }
    pass.frames = std::move(r.frames);
    return pass;
}

}  // namespace ktstr::host
