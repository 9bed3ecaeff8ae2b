// Lowercase hexadecimal text, the one way ktstr spells bytes and addresses
// for people and for JSON.
#pragma once

#include <cstdint>
#include <string>

#include "ktstr/common/bytes.hpp"

namespace ktstr {

// Two digits per byte, no prefix or separator: {0x00, 0xab} -> "00ab"
// (payload_hex in docs/wire-format.md).
std::string to_hex(byte_view bytes);

// "0x" and the value's digits without leading zeros: 0 -> "0x0",
// 0xfee00000 -> "0xfee00000" (guest-physical addresses and sizes in
// messages).
std::string to_hex(std::uint64_t value);

}  // namespace ktstr
