// The TLV frame: a 16-byte header followed by `length` payload bytes.
// Both channels (the bulk port and the SHM ring) carry exactly this.
//
//   offset 0  msg_type u32 LE   (MsgType)
//   offset 4  length   u32 LE   (payload bytes that follow)
//   offset 8  crc32    u32 LE   (CRC-32 of the payload only)
//   offset 12 pad      u32 LE   (0 when written; reported, never trusted)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/crc32.hpp"

namespace ktstr {

struct FrameHeader {
    std::uint32_t msg_type = 0;
    std::uint32_t length = 0;
    std::uint32_t crc32 = 0;
    std::uint32_t pad = 0;
};
static_assert(sizeof(FrameHeader) == 16);
static_assert(offsetof(FrameHeader, msg_type) == 0);
static_assert(offsetof(FrameHeader, length) == 4);
static_assert(offsetof(FrameHeader, crc32) == 8);
static_assert(offsetof(FrameHeader, pad) == 12);

inline constexpr std::size_t frame_header_size = sizeof(FrameHeader);

// Largest payload the bulk channel accepts (ktstr's MAX_BULK_FRAME_PAYLOAD).
inline constexpr std::uint32_t max_bulk_frame_payload = 16u << 20;

FrameHeader decode_frame_header(std::span<const std::uint8_t, frame_header_size> bytes) noexcept;
void encode_frame_header(const FrameHeader& h, std::span<std::uint8_t, frame_header_size> out) noexcept;

// Header for `payload` with its length and CRC filled in.
// Precondition: payload.size() <= UINT32_MAX.
FrameHeader make_frame_header(std::uint32_t msg_type, byte_view payload) noexcept;

// Header and payload in one buffer, ready to write.
byte_buffer encode_frame(std::uint32_t msg_type, byte_view payload);

// A frame as a receiver sees it: the header as announced, the payload
// bytes, and whether the payload matches the announced CRC.
struct Frame {
    FrameHeader header;
    byte_buffer payload;
    bool crc_ok = false;

    std::uint32_t msg_type() const noexcept { return header.msg_type; }
};

// The frame a receiver makes of a header it decoded and the `header.length`
// payload bytes that followed it. Every receiver (the stream assembler, the
// SHM ring drain, the guest's reply reader) builds its frames here, so the
// CRC is checked one way on every channel.
// Inline: the assembler calls it once per frame on the hot path.
inline Frame received_frame(const FrameHeader& header, byte_buffer payload) {
    Frame f;
    f.header = header;
    f.crc_ok = crc32(payload) == header.crc32;
    f.payload = std::move(payload);
    return f;
}

}  // namespace ktstr
