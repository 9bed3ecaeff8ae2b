// The JSON form of a frame, shared by `ktstr-vmm decode` and the host's
// message log (docs/wire-format.md, "JSON lines"):
//   {"type": "EXIT", "msg_type": 1163413844, "length": 4, "crc_ok": true,
//    "payload_hex": "00000000", "fields": {"code": 0}}
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "ktstr/common/bytes.hpp"

namespace ktstr {

// Decoded fields of a known payload; {} for opaque or unknown types, and
// {"error": "..."} for a payload the type's layout does not allow.
nlohmann::json payload_fields(std::uint32_t msg_type, byte_view payload);

nlohmann::ordered_json frame_to_json(std::uint32_t msg_type, std::uint32_t length, bool crc_ok, byte_view payload);

std::string to_hex(byte_view bytes);

}  // namespace ktstr
