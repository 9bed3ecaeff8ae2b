// The JSON form of a frame, shared by `ktstr-vmm decode` and the host's
// message log (docs/wire-format.md, "JSON lines"):
//   {"type": "EXIT", "msg_type": 1163413844, "length": 4, "crc_ok": true,
//    "payload_hex": "00000000", "fields": {"code": 0}}
#pragma once

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/frame.hpp"

namespace ktstr {

// JSON payloads (TEST, PMET, RAWO) above this are not parsed: a parsed
// tree costs some 40 times its text, so a 16 MiB payload would take
// hundreds of MiB of the reader's memory. Their bytes stay in payload_hex.
inline constexpr std::size_t max_decoded_json_payload = std::size_t{1} << 20;

// Decoded fields of a known payload; {} for opaque or unknown types, and
// {"error": "..."} for a payload the type's layout does not allow or a JSON
// payload above max_decoded_json_payload.
nlohmann::json payload_fields(std::uint32_t msg_type, byte_view payload);

// The one JSON form of a received frame, whichever channel it came on:
// `length` is the header's, `crc_ok` the receiver's verdict.
nlohmann::ordered_json frame_to_json(const Frame& frame);

}  // namespace ktstr
