// Reassembles TLV frames (frame.hpp) from a byte stream delivered in
// chunks of any size; a frame may be split anywhere, its header too.
//
// Memory is allocated only for bytes actually received, never for an
// announced length. ktstr's bulk-channel rules (max_bulk_frame_payload):
//  - a frame is judged only once it is complete;
//  - a complete frame whose length is above the cap makes the assembler
//    drop everything buffered and resynchronise on the next bytes;
//  - buffered bytes above twice the cap with no complete frame (a huge
//    announced length) are dropped too;
//  - a CRC mismatch is reported on that frame (crc_ok = false) and the
//    frames after it are delivered as usual;
//  - a non-zero pad is counted, never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/frame.hpp"

namespace ktstr {

struct AssemblerStats {
    std::uint64_t frames = 0;          // complete frames delivered
    std::uint64_t crc_errors = 0;      // delivered frames whose CRC did not match
    std::uint64_t nonzero_pad = 0;     // delivered frames with pad != 0
    std::uint64_t oversize_frames = 0; // complete frames above the cap (dropped)
    std::uint64_t overflow_resets = 0; // residues above twice the cap (dropped)
    std::uint64_t dropped_bytes = 0;   // bytes thrown away by either rule
};

class TlvAssembler {
public:
    explicit TlvAssembler(std::uint32_t max_payload = max_bulk_frame_payload);

    // Appends received bytes.
    void feed(byte_view chunk);

    // feed(chunk) followed by next() until it returns nullopt, each frame
    // handed to `on_frame`; returns how many. The same frames, counters and
    // drops, but a frame that lies wholly inside `chunk` is parsed where it
    // lies: only the bytes of a frame that straddles the chunk's end (or
    // began in an earlier chunk) are copied into the assembler. A frame's
    // payload is copied once, into its Frame.
    std::size_t consume(byte_view chunk, const std::function<void(Frame&&)>& on_frame);

    // The next complete frame, in stream order, or nullopt when the
    // buffered bytes hold no complete frame.
    std::optional<Frame> next();

    // Bytes held that do not yet form a complete frame (after next()
    // returned nullopt: the incomplete tail).
    std::size_t buffered() const noexcept { return buf_.size() - head_; }

    const AssemblerStats& stats() const noexcept { return stats_; }
    std::uint32_t max_payload() const noexcept { return max_payload_; }

private:
    void compact();
    // Drops `bytes` buffered or about to be (both drop rules), and the buffer.
    void drop_all(std::uint64_t bytes);
    // The frame of a complete, accepted header and payload; counted.
    Frame deliver(const FrameHeader& h, byte_view payload);

    std::uint32_t max_payload_;
    byte_buffer buf_;
    std::size_t head_ = 0;  // first unconsumed byte of buf_
    AssemblerStats stats_;
};

}  // namespace ktstr
