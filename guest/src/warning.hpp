// Diagnostics of the guest library: one line on stderr per call, written
// with a single write(2) so lines of concurrent threads do not mix.
#pragma once

#include <atomic>
#include <string_view>

namespace ktstr::guest {

void warn(std::string_view message) noexcept;

// Warns only the first time `flag` is seen clear.
inline void warn_once(std::atomic<bool>& flag, std::string_view message) noexcept {
    if (!flag.exchange(true))
        warn(message);
}

}  // namespace ktstr::guest
