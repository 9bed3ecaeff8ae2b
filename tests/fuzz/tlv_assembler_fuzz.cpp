// Feeds arbitrary bytes to the assembler in arbitrary chunks. The first
// byte picks the chunk size; a small cap reaches the resync paths. Then
// the same chunks through consume(), checked against feed() + next().
#include <cstdlib>
#include <vector>

#include "ktstr/common/crc32.hpp"
#include "ktstr/common/tlv_assembler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    constexpr std::uint32_t cap = 4096;
    ktstr::TlvAssembler a(cap);
    const std::size_t chunk = 1 + data[0] % 64;
    std::size_t delivered = 0, bytes_out = 0;
    for (std::size_t at = 1; at < size; at += chunk) {
        a.feed(ktstr::byte_view(data + at, std::min(chunk, size - at)));
        while (auto f = a.next()) {
            if (f->payload.size() > cap || f->payload.size() != f->header.length)
                std::abort();
            if (f->crc_ok != (ktstr::crc32(f->payload) == f->header.crc32))
                std::abort();
            ++delivered;
            bytes_out += 16 + f->payload.size();
        }
        // Never holds more than twice the cap plus one chunk.
        if (a.buffered() > 2 * std::size_t{cap} + chunk)
            std::abort();
    }
    // Every input byte is delivered, dropped, or still buffered.
    if (bytes_out + a.stats().dropped_bytes + a.buffered() != size - 1)
        std::abort();
    if (a.stats().frames != delivered)
        std::abort();

    // consume() (frames parsed in place) decides exactly as feed() + next():
    // the same frames in order, the same residue and counters.
    ktstr::TlvAssembler in_place(cap), fed(cap);
    for (std::size_t at = 1; at < size; at += chunk) {
        const ktstr::byte_view piece(data + at, std::min(chunk, size - at));
        fed.feed(piece);
        std::size_t expected = 0;
        std::vector<ktstr::Frame> want;
        while (auto f = fed.next())
            want.push_back(std::move(*f));
        const std::size_t got = in_place.consume(piece, [&](ktstr::Frame&& f) {
            if (expected >= want.size() || f.header.msg_type != want[expected].header.msg_type ||
                f.payload != want[expected].payload || f.crc_ok != want[expected].crc_ok)
                std::abort();
            ++expected;
        });
        if (got != want.size() || expected != want.size() || in_place.buffered() != fed.buffered())
            std::abort();
    }
    const auto& x = in_place.stats();
    const auto& y = fed.stats();
    if (x.frames != y.frames || x.crc_errors != y.crc_errors || x.nonzero_pad != y.nonzero_pad ||
        x.oversize_frames != y.oversize_frames || x.overflow_resets != y.overflow_resets ||
        x.dropped_bytes != y.dropped_bytes)
        std::abort();
    return 0;
}
