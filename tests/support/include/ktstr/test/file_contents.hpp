// A whole file as text or bytes, and writing one: what tests compare a
// component's output files with, or prepare its input files from.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "ktstr/common/bytes.hpp"

namespace ktstr::test {

// The whole file; empty when it cannot be read, so that the test's checks
// on the contents fail and show what was expected.
std::string read_text(const std::filesystem::path& p);
byte_buffer read_bytes(const std::filesystem::path& p);

// Replaces the file with `content` (binary, no newline added). Throws
// std::system_error when it cannot be written: a test must not go on
// with an input it did not get.
void write_text(const std::filesystem::path& p, std::string_view content);

}  // namespace ktstr::test
