// The ACPI table header and checksum.
#include "arch/x86_64/acpi/sdt.hpp"

#include <stdexcept>

namespace ktstr::vmm::x86_64::acpi {

void append_chars(byte_buffer& out, std::string_view s) {
    out.insert(out.end(), s.begin(), s.end());
}

std::uint8_t byte_sum(byte_view bytes) noexcept {
    unsigned sum = 0;
    for (std::uint8_t b : bytes)
        sum += b;
    return static_cast<std::uint8_t>(sum);
}

std::uint8_t checksum(byte_view bytes) noexcept {
    return static_cast<std::uint8_t>(0x100 - byte_sum(bytes));
}

byte_buffer begin_sdt(std::string_view signature, std::uint8_t revision) {
    if (signature.size() != 4)
        throw std::invalid_argument("ACPI table signature must be 4 characters");
    byte_buffer t;
    t.reserve(sdt_header_size);
    append_chars(t, signature);
    append_le<std::uint32_t>(t, 0);  // length, set by finish_sdt
    t.push_back(revision);
    t.push_back(0);  // checksum, set by finish_sdt
    append_chars(t, oem_id);
    append_chars(t, oem_table_id);
    append_le(t, oem_revision);
    append_chars(t, creator_id);
    append_le(t, creator_revision);
    return t;
}

void finish_sdt(byte_buffer& table) {
    if (table.size() < sdt_header_size || table.size() > UINT32_MAX)
        throw std::invalid_argument("ACPI table shorter than its header or over 4 GiB");
    store_le(table.data() + sdt_length_offset, static_cast<std::uint32_t>(table.size()));
    table[sdt_checksum_offset] = 0;
    table[sdt_checksum_offset] = checksum(table);
}

}  // namespace ktstr::vmm::x86_64::acpi
