// Test helper: appends bytes to a file (created if missing), as a kernel
// would grow the log or trace file a guest component reads.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::test {

// Fails the test (REQUIRE) when the file cannot be opened or the write is short.
inline void append(const std::string& path, std::string_view bytes) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    REQUIRE(fd);
    REQUIRE(::write(fd.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

}  // namespace ktstr::test
