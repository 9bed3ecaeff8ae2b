// VPCLMULQDQ folding. Not yet written: reports unavailable.
#include "ktstr/common/crc32.hpp"

namespace ktstr::crc32_impl {
bool has_vpclmul() noexcept { return false; }
std::uint32_t vpclmul(std::uint32_t crc, byte_view data) noexcept { return slicing_by_8(crc, data); }
}  // namespace ktstr::crc32_impl
