#include "ktstr/common/frame.hpp"

#include <algorithm>
#include <utility>

#include "ktstr/common/crc32.hpp"

namespace ktstr {

FrameHeader decode_frame_header(std::span<const std::uint8_t, frame_header_size> b) noexcept {
    return FrameHeader{
        load_le<std::uint32_t>(b.data() + 0),
        load_le<std::uint32_t>(b.data() + 4),
        load_le<std::uint32_t>(b.data() + 8),
        load_le<std::uint32_t>(b.data() + 12),
    };
}

void encode_frame_header(const FrameHeader& h, std::span<std::uint8_t, frame_header_size> out) noexcept {
    store_le(out.data() + 0, h.msg_type);
    store_le(out.data() + 4, h.length);
    store_le(out.data() + 8, h.crc32);
    store_le(out.data() + 12, h.pad);
}

FrameHeader make_frame_header(std::uint32_t msg_type, byte_view payload) noexcept {
    return FrameHeader{msg_type, static_cast<std::uint32_t>(payload.size()), crc32(payload), 0};
}

byte_buffer encode_frame(std::uint32_t msg_type, byte_view payload) {
    byte_buffer out(frame_header_size + payload.size());
    encode_frame_header(make_frame_header(msg_type, payload),
                        std::span<std::uint8_t, frame_header_size>(out.data(), frame_header_size));
    std::copy(payload.begin(), payload.end(), out.begin() + frame_header_size);
    return out;
}

}  // namespace ktstr
