#include "ktstr/guest/bounded_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::guest {

std::optional<BoundedFile> read_bounded_file(const std::string& path, std::size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return std::nullopt;
    BoundedFile out;
    // procfs files report size 0, so read in steps instead of trusting
    // st_size; one byte past the bound tells us whether the file is longer.
    std::size_t step = 4096;
    while (out.bytes.size() <= max_bytes) {
        std::size_t have = out.bytes.size();
        std::size_t want = std::min(step, max_bytes + 1 - have);
        out.bytes.resize(have + want);
        ssize_t r = ::read(fd.get(), out.bytes.data() + have, want);
        if (r < 0) {
            if (errno == EINTR) {
                out.bytes.resize(have);
                continue;
            }
            return std::nullopt;
        }
        out.bytes.resize(have + static_cast<std::size_t>(r));
        if (r == 0)
            break;
    }
    if (out.bytes.size() > max_bytes) {
        out.bytes.resize(max_bytes);
        out.truncated = true;
    }
    return out;
}

}  // namespace ktstr::guest
