// The last bytes of a stream that may be far longer than we want to keep:
// what a report quotes of a scheduler's output or of the kernel log.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ktstr::guest {

class TailBuffer {
public:
    // Keeps the last `capacity` bytes; memory stays under 2 x capacity
    // (the front is dropped in batches, so appending stays linear).
    explicit TailBuffer(std::size_t capacity) noexcept : capacity_(capacity) {}

    void append(std::string_view bytes);
    // The last min(capacity, total) bytes, oldest first.
    std::string str() const;
    std::uint64_t total() const noexcept { return total_; }  // bytes ever appended
    std::uint64_t dropped() const noexcept { return total_ - std::min<std::uint64_t>(total_, capacity_); }
    void clear() noexcept;

private:
    std::size_t capacity_;
    std::string buffer_;
    std::uint64_t total_ = 0;
};

}  // namespace ktstr::guest
