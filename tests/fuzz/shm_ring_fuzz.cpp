// Treats arbitrary bytes as an SHM region (a hostile guest's ring): drains
// it both ways, then writes and drains again. Nothing may read outside the
// region, allocate beyond it, or loop.
#include <cstdlib>
#include <vector>

#include "ktstr/common/shm_ring.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // An exact-size heap copy so ASan flags any access past the region.
    std::vector<std::uint8_t> region(data, data + size);
    ktstr::SpanRegion span(region);
    auto peek = ktstr::ring_drain(span, ktstr::DrainMode::peek);
    std::size_t total = 0;
    for (const auto& e : peek.frames)
        total += 16 + e.payload.size();
    if (size >= 40 && total > size - 40)
        std::abort();
    auto consumed = ktstr::ring_drain(span, ktstr::DrainMode::consume);
    if (consumed.frames.size() != peek.frames.size())
        std::abort();
    std::uint8_t payload[32] = {1, 2, 3};
    auto st = ktstr::ring_write(span, 0x45584954, ktstr::byte_view(payload, size % 33));
    auto after = ktstr::ring_drain(span, ktstr::DrainMode::consume);
    // Into a ring the reader had emptied, a written message must come back.
    const bool was_empty = consumed.status == ktstr::RingDrainStatus::ok && consumed.bytes_pending == 0;
    if (was_empty && st == ktstr::RingWriteStatus::written &&
        (after.frames.size() != 1 || !after.frames[0].crc_ok || after.frames[0].payload.size() != size % 33))
        std::abort();
    ktstr::SharedRegion shared(region.data(), region.size());
    (void)ktstr::ring_drain(shared, ktstr::DrainMode::consume);
    ktstr::ring_signal(shared, size % 3, 1);
    return 0;
}
