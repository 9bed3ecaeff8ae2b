// UTF-8 repair and cutting for text that crosses the wire as UTF-8 but
// comes from sources that promise nothing (a scheduler's output, the
// kernel log): the receiver must never see a broken sequence.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ktstr {

// `s` with each byte that does not belong to a well-formed UTF-8 sequence
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF)
// replaced by U+FFFD. Valid input comes back unchanged.
std::string valid_utf8(std::string_view s);

// The length of the longest prefix of `s` of at most `max` bytes that
// does not end inside a multi-byte sequence (for valid UTF-8: a whole
// number of characters).
std::size_t utf8_prefix_length(std::string_view s, std::size_t max) noexcept;

// Where the shortest suffix of `s` that holds at most `max` bytes and
// starts at a character boundary begins (the tail of an output, cut
// cleanly).
std::size_t utf8_suffix_start(std::string_view s, std::size_t max) noexcept;

}  // namespace ktstr
