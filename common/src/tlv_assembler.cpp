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

void TlvAssembler::drop_all(std::uint64_t bytes) {
    stats_.dropped_bytes += bytes;
    buf_.clear();
    head_ = 0;
}

Frame TlvAssembler::deliver(const FrameHeader& h, byte_view payload) {
    auto f = received_frame(h, byte_buffer(payload.begin(), payload.end()));
    stats_.frames++;
    if (!f.crc_ok)
        stats_.crc_errors++;
    if (h.pad != 0)
        stats_.nonzero_pad++;
    return f;
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
                drop_all(avail);
            }
            return std::nullopt;
        }
        if (h.length > max_payload_) {
            // Complete but over the cap: ktstr drops everything buffered
            // and resynchronises on what arrives next.
            stats_.oversize_frames++;
            drop_all(avail);
            continue;
        }
        const byte_view payload(buf_.data() + head_ + frame_header_size, h.length);
        head_ += static_cast<std::size_t>(total);
        return deliver(h, payload);
    }
}

// Walks the stream feed() would have buffered, residue first, then `chunk`
// in place; each rule decides on the same byte counts as next() would.
std::size_t TlvAssembler::consume(byte_view chunk, const std::function<void(Frame&&)>& on_frame) {
    std::size_t frames = 0;
    // What earlier feed() calls left complete; after this the buffer holds
    // at most the start of one frame.
    while (auto f = next()) {
        ++frames;
        on_frame(std::move(*f));
    }
    std::size_t pos = 0;  // chunk bytes consumed or buffered
    auto append = [&](std::size_t n) {
        compact();
        buf_.insert(buf_.end(), chunk.begin() + static_cast<std::ptrdiff_t>(pos),
                    chunk.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
    };
    // An incomplete residue of `avail` bytes with nothing more to come from
    // this chunk: next()'s overflow rule.
    auto hold = [&](std::uint64_t avail) {
        if (avail > 2 * std::uint64_t{max_payload_}) {
            stats_.overflow_resets++;
            drop_all(avail);
        }
    };

    // 1. The frame that began in an earlier chunk: completed by copying.
    if (buffered() != 0) {
        if (buffered() < frame_header_size) {
            append(std::min(frame_header_size - buffered(), chunk.size()));
            if (buffered() < frame_header_size)
                return frames;
        }
        const auto h = decode_frame_header(
            std::span<const std::uint8_t, frame_header_size>(buf_.data() + head_, frame_header_size));
        const std::uint64_t missing = frame_header_size + std::uint64_t{h.length} - buffered();
        const std::size_t rest = chunk.size() - pos;
        if (rest < missing) {
            append(rest);
            hold(buffered());
            return frames;
        }
        if (h.length > max_payload_) {
            // Complete and over the cap: everything buffered goes, which in
            // feed()'s terms is the residue and the whole rest of the chunk.
            stats_.oversize_frames++;
            drop_all(buffered() + rest);
            return frames;
        }
        append(static_cast<std::size_t>(missing));
        auto f = next();  // exactly that frame
        ++frames;
        on_frame(std::move(*f));
    }

    // 2. Frames wholly inside the chunk: parsed where they lie.
    for (;;) {
        const std::size_t rest = chunk.size() - pos;
        if (rest < frame_header_size)
            break;
        const auto* p = chunk.data() + pos;
        const auto h = decode_frame_header(std::span<const std::uint8_t, frame_header_size>(p, frame_header_size));
        const std::uint64_t total = frame_header_size + std::uint64_t{h.length};
        if (rest < total) {
            if (rest > 2 * std::uint64_t{max_payload_}) {
                stats_.overflow_resets++;
                stats_.dropped_bytes += rest;
                return frames;
            }
            break;
        }
        if (h.length > max_payload_) {
            stats_.oversize_frames++;
            stats_.dropped_bytes += rest;
            return frames;
        }
        pos += static_cast<std::size_t>(total);
        ++frames;
        on_frame(deliver(h, byte_view(p + frame_header_size, h.length)));
    }

    // 3. The tail: the start of a frame the next chunk continues.
    append(chunk.size() - pos);
    return frames;
}

}  // namespace ktstr
