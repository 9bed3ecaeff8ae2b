// A small AML (ACPI Machine Language) writer: just what the DSDT needs.
//
// Each function returns the encoding of one term or resource descriptor
// (ACPI 6.3 §20 for AML, §6.4 for resource descriptors); terms nest by
// passing the inner encodings to the outer one, the way ASL nests:
//
//   aml::scope("\\_SB_", {aml::device("COM1", {aml::name("_HID", aml::eisa_id("PNP0501"))})})
//
// Names are ACPI paths of 4-character segments separated by '.', with an
// optional leading '\' (root); shorter segments are padded with '_'.
// Malformed names, strings or sizes throw std::invalid_argument.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <ktstr/common/bytes.hpp>

namespace ktstr::vmm::x86_64::aml {

using Terms = std::vector<byte_buffer>;

// --- encodings used inside terms
byte_buffer name_string(std::string_view path);
// PkgLength for `content` bytes that follow it.
byte_buffer pkg_length(std::size_t content);

// --- data objects
byte_buffer integer(std::uint64_t v);       // Zero, One, or the smallest prefix
byte_buffer string(std::string_view s);      // ASCII 0x01..0x7f
byte_buffer eisa_id(std::string_view id);    // "PNP0501" -> DWordConst
byte_buffer package(const Terms& elements);  // at most 255 elements
byte_buffer buffer(byte_view bytes);

// --- named objects and scopes
byte_buffer name(std::string_view path, const byte_buffer& object);  // Name (path, object)
byte_buffer scope(std::string_view path, const Terms& terms);        // Scope (path) { terms }
byte_buffer device(std::string_view path, const Terms& terms);       // Device (path) { terms }

// --- resource templates: a Buffer of descriptors closed by an End Tag
byte_buffer resource_template(const Terms& descriptors);
// Memory32Fixed (ReadWrite|ReadOnly, base, length)
byte_buffer memory32_fixed(std::uint32_t base, std::uint32_t length, bool writable = true);
// Interrupt (ResourceConsumer, Edge|Level, ActiveHigh|ActiveLow, Exclusive|Shared) {gsi}
byte_buffer extended_interrupt(std::uint32_t gsi, bool edge, bool active_low, bool shared);
// IO (Decode16, base, base, alignment, length): a fixed port range
byte_buffer io_port(std::uint16_t base, std::uint8_t length, std::uint8_t alignment = 1);
// IRQNoFlags () {irq}: an ISA IRQ, edge and active high
byte_buffer irq_no_flags(std::uint8_t irq);

}  // namespace ktstr::vmm::x86_64::aml
