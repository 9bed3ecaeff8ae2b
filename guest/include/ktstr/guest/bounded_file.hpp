// Reading small text files (procfs, the initramfs's recorded command) with
// a hard size bound, so a hostile or corrupt file cannot make us allocate
// without limit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace ktstr::guest {

struct BoundedFile {
    std::string bytes;
    bool truncated = false;  // the file had more than max_bytes
};

// Reads at most `max_bytes` of `path`. nullopt when it cannot be opened
// or read; errno is left as the failing call set it.
std::optional<BoundedFile> read_bounded_file(const std::string& path, std::size_t max_bytes);

}  // namespace ktstr::guest
