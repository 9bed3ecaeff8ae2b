// A guard for guest JSON payloads (TEST, PMET, RAWO) before they reach
// nlohmann-json, whose parser and serializer recurse once per nesting
// level: a payload of 100 000 '[' overflows the stack. Decoders check the
// nesting depth with a linear scan first and treat a deeper payload as
// malformed.
#pragma once

#include <cstddef>

#include "ktstr/common/bytes.hpp"

namespace ktstr {

// Far beyond any payload of docs/wire-format.md (TEST nests 3 deep).
inline constexpr std::size_t max_json_nesting = 64;

// Whether no array or object in `text` nests deeper than `limit`. Brackets
// inside JSON strings (with backslash escapes) do not count. Does not
// validate the JSON otherwise.
bool json_nesting_within(byte_view text, std::size_t limit = max_json_nesting) noexcept;

}  // namespace ktstr
