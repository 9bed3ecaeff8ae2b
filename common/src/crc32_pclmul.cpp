// PCLMULQDQ folding. Not yet written: reports unavailable, so crc32()
// dispatches to slicing-by-8.
#include "ktstr/common/crc32.hpp"

namespace ktstr::crc32_impl {
bool has_pclmul() noexcept { return false; }
std::uint32_t pclmul(std::uint32_t crc, byte_view data) noexcept { return slicing_by_8(crc, data); }
}  // namespace ktstr::crc32_impl
