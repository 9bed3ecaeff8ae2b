// Writing a whole buffer to a file descriptor: write(2) until every byte is
// out, retrying EINTR and short writes.
#pragma once

#include "ktstr/common/bytes.hpp"

namespace ktstr {

// true when every byte was written; false (errno set) on the first failure.
bool write_all(int fd, byte_view bytes) noexcept;

}  // namespace ktstr
