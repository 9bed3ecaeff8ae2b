#include "warning.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace ktstr::guest {

void warn(std::string_view message) noexcept {
    static constexpr std::string_view prefix = "ktstr-guest: ";
    std::array<char, 1024> line{};
    std::size_t n = 0;
    auto put = [&](std::string_view s) {
        std::size_t k = std::min(s.size(), line.size() - 1 - n);
        std::memcpy(line.data() + n, s.data(), k);
        n += k;
    };
    put(prefix);
    put(message);
    line[n++] = '\n';
    // Best effort: a diagnostic that cannot be written is dropped.
    [[maybe_unused]] auto r = ::write(STDERR_FILENO, line.data(), n);
}

}  // namespace ktstr::guest
