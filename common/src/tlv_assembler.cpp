#include "ktstr/common/tlv_assembler.hpp"

#include <algorithm>

namespace ktstr {

TlvAssembler::TlvAssembler(std::uint32_t max_payload) : max_payload_(max_payload) {}

void TlvAssembler::feed(byte_view chunk) {
    if (chunk.empty())
        return;
    compact();
    buf_.insert(buf_.end(), chunk.begin(), chunk.end());
}

// Moves the unconsumed tail to the front once the consumed prefix is at
// least as large, so appends stay amortised O(1) and memory stays bounded
// by what is actually buffered.
void TlvAssembler::compact() {
    if (head_ == 0)
        return;
    if (head_ == buf_.size()) {
        buf_.clear();
        head_ = 0;
    } else if (head_ >= buf_.size() - head_) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

std::optional<Frame> TlvAssembler::next() {
    for (;;) {
        const std::size_t avail = buf_.size() - head_;
        if (avail < frame_header_size)
            return std::nullopt;
        const auto h = decode_frame_header(
            std::span<const std::uint8_t, frame_header_size>(buf_.data() + head_, frame_header_size));
        const std::uint64_t total = frame_header_size + std::uint64_t{h.length};
        if (avail < total) {
            // Incomplete. A residue beyond twice the cap cannot become a
            // frame we would accept: drop it rather than grow without bound.
            if (avail > 2 * std::uint64_t{max_payload_}) {
                stats_.overflow_resets++;
                stats_.dropped_bytes += avail;
                buf_.clear();
                head_ = 0;
            }
            return std::nullopt;
        }
        if (h.length > max_payload_) {
            // Complete but over the cap: ktstr drops everything buffered
            // and resynchronises on what arrives next.
            stats_.oversize_frames++;
            stats_.dropped_bytes += avail;
            buf_.clear();
            head_ = 0;
            continue;
        }
        const auto* p = buf_.data() + head_ + frame_header_size;
        auto f = received_frame(h, byte_buffer(p, p + h.length));
        head_ += static_cast<std::size_t>(total);
        stats_.frames++;
        if (!f.crc_ok)
            stats_.crc_errors++;
        if (h.pad != 0)
            stats_.nonzero_pad++;
        return f;
    }
}

}  // namespace ktstr
