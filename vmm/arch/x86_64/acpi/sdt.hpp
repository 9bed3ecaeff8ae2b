// What every ACPI table shares: little-endian byte building, the 36-byte
// system description table header, and the checksum.
//
// Tables are built by appending fields in the order the ACPI specification
// lists them (ACPI 6.3 §5.2), so each builder reads like the spec's table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64::acpi {

// Header fields (ACPI 6.3 §5.2.6, Table 5-29).
inline constexpr std::size_t sdt_header_size = 36;
inline constexpr std::size_t sdt_length_offset = 4;
inline constexpr std::size_t sdt_checksum_offset = 9;
inline constexpr std::string_view oem_id = "KTSTR ";         // 6 bytes
inline constexpr std::string_view oem_table_id = "KTSTRVMM"; // 8 bytes
inline constexpr std::uint32_t oem_revision = 1;
inline constexpr std::string_view creator_id = "KTST";       // 4 bytes
inline constexpr std::uint32_t creator_revision = 1;
static_assert(oem_id.size() == 6 && oem_table_id.size() == 8 && creator_id.size() == 4);

template <typename T>
    requires std::is_unsigned_v<T>
void append_le(byte_buffer& out, T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Appends exactly s.size() bytes.
void append_chars(byte_buffer& out, std::string_view s);

// The byte that makes `bytes` sum to zero modulo 256 once added.
std::uint8_t checksum(byte_view bytes) noexcept;

// Sum of all bytes modulo 256 (0 for a well-formed table).
std::uint8_t byte_sum(byte_view bytes) noexcept;

// A new table holding only its header: `signature` (4 characters), the
// revision, the OEM and creator fields; length and checksum are zero until
// finish_sdt.
byte_buffer begin_sdt(std::string_view signature, std::uint8_t revision);

// Writes the table's length (its size) and checksum into its header.
void finish_sdt(byte_buffer& table);

}  // namespace ktstr::vmm::x86_64::acpi
