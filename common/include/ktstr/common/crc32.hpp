// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final XOR
// 0xFFFFFFFF): the checksum of every frame payload, identical to Rust's
// crc32fast and zlib's crc32. "123456789" gives 0xCBF43926.
#pragma once

#include <cstdint>
#include <string_view>

#include "ktstr/common/bytes.hpp"

namespace ktstr {

// CRC-32 of `data` with the fastest implementation this CPU supports.
std::uint32_t crc32(byte_view data) noexcept;

// Continues a CRC: crc32_update(crc32(a), b) == crc32(a + b).
// Start a fresh one with crc = 0.
std::uint32_t crc32_update(std::uint32_t crc, byte_view data) noexcept;

namespace crc32_impl {

// Each implementation takes and returns a finalised CRC (like crc32_update),
// so any of them can be swapped for any other.
std::uint32_t boost_reference(std::uint32_t crc, byte_view data) noexcept;
std::uint32_t slicing_by_8(std::uint32_t crc, byte_view data) noexcept;
// Carry-less multiply folding. Callable only where has_pclmul() (resp.
// has_vpclmul(), has_vpclmul256()) is true: 128-bit PCLMULQDQ, 512-bit
// VPCLMULQDQ (AVX-512), 256-bit VPCLMULQDQ (AVX2, no AVX-512 needed).
std::uint32_t pclmul(std::uint32_t crc, byte_view data) noexcept;
std::uint32_t vpclmul(std::uint32_t crc, byte_view data) noexcept;
std::uint32_t vpclmul256(std::uint32_t crc, byte_view data) noexcept;

bool has_pclmul() noexcept;
bool has_vpclmul() noexcept;
bool has_vpclmul256() noexcept;

// Name of the implementation crc32() dispatches to ("vpclmul",
// "vpclmul256", "pclmul", "slicing-by-8").
std::string_view active_name() noexcept;

}  // namespace crc32_impl
}  // namespace ktstr
