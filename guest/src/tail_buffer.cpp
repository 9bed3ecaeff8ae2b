#include "ktstr/guest/tail_buffer.hpp"

#include <algorithm>

namespace ktstr::guest {

void TailBuffer::append(std::string_view bytes) {
    total_ += bytes.size();
    if (capacity_ == 0)
        return;
    if (bytes.size() >= capacity_) {
        buffer_.assign(bytes.substr(bytes.size() - capacity_));
        return;
    }
    buffer_.append(bytes);
    if (buffer_.size() > 2 * capacity_)
        buffer_.erase(0, buffer_.size() - capacity_);
}

std::string TailBuffer::str() const {
    const std::size_t n = std::min(buffer_.size(), capacity_);
    return buffer_.substr(buffer_.size() - n);
}

void TailBuffer::clear() noexcept {
    buffer_.clear();
    total_ = 0;
}

}  // namespace ktstr::guest
