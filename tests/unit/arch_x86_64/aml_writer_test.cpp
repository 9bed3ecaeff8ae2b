// AML encodings against hand-assembled bytes (what iasl emits for the
// same ASL).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "arch/x86_64/acpi/aml_writer.hpp"

using namespace ktstr;
using namespace ktstr::vmm::x86_64;

TEST_CASE("integers take the smallest encoding", "[x86_64][aml]") {
    CHECK(aml::integer(0) == byte_buffer{0x00});
    CHECK(aml::integer(1) == byte_buffer{0x01});
    CHECK(aml::integer(5) == byte_buffer{0x0a, 0x05});
    CHECK(aml::integer(0x3f8) == byte_buffer{0x0b, 0xf8, 0x03});
    CHECK(aml::integer(0xd0000000) == byte_buffer{0x0c, 0x00, 0x00, 0x00, 0xd0});
    CHECK(aml::integer(0x1'0000'0000) == byte_buffer{0x0e, 0, 0, 0, 0, 1, 0, 0, 0});
}

TEST_CASE("strings and EISA ids", "[x86_64][aml]") {
    CHECK(aml::string("LNRO0005") == byte_buffer{0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0});
    // EisaId ("PNP0501") and EisaId ("PNP0A03"), as iasl encodes them.
    CHECK(aml::eisa_id("PNP0501") == byte_buffer{0x0c, 0x41, 0xd0, 0x05, 0x01});
    CHECK(aml::eisa_id("PNP0A03") == byte_buffer{0x0c, 0x41, 0xd0, 0x0a, 0x03});
    CHECK_THROWS_AS(aml::eisa_id("pnp0501"), std::invalid_argument);
    CHECK_THROWS_AS(aml::eisa_id("PNP050"), std::invalid_argument);
    CHECK_THROWS_AS(aml::string("\xc3\xa9"), std::invalid_argument);
}

TEST_CASE("name strings: segments padded, root and multi-segment prefixes", "[x86_64][aml]") {
    CHECK(aml::name_string("_HID") == byte_buffer{'_', 'H', 'I', 'D'});
    CHECK(aml::name_string("_SB") == byte_buffer{'_', 'S', 'B', '_'});
    CHECK(aml::name_string("\\_S5_") == byte_buffer{'\\', '_', 'S', '5', '_'});
    CHECK(aml::name_string("\\_SB.COM1") == byte_buffer{'\\', 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1'});
    CHECK(aml::name_string("A.B.C") == byte_buffer{0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_'});
    CHECK(aml::name_string("\\") == byte_buffer{'\\', 0x00});
    CHECK_THROWS_AS(aml::name_string(""), std::invalid_argument);
    CHECK_THROWS_AS(aml::name_string("0ABC"), std::invalid_argument);
    CHECK_THROWS_AS(aml::name_string("ABCDE"), std::invalid_argument);
    CHECK_THROWS_AS(aml::name_string("ab"), std::invalid_argument);
    CHECK_THROWS_AS(aml::name_string("A..B"), std::invalid_argument);
    CHECK_THROWS_AS(aml::name_string("A."), std::invalid_argument);
}

TEST_CASE("PkgLength counts itself and switches width at 63 and 4095 bytes", "[x86_64][aml]") {
    CHECK(aml::pkg_length(0) == byte_buffer{0x01});
    CHECK(aml::pkg_length(62) == byte_buffer{0x3f});
    CHECK(aml::pkg_length(63) == byte_buffer{0x41, 0x04});  // 65 = 0x41: low nibble 1, then 0x04
    CHECK(aml::pkg_length(4093) == byte_buffer{0x4f, 0xff});
    CHECK(aml::pkg_length(4094) == byte_buffer{0x81, 0x00, 0x01});  // 4097
    CHECK(aml::pkg_length((1u << 20) - 4) == byte_buffer{0x8f, 0xff, 0xff});
    CHECK(aml::pkg_length((1u << 20) - 3) == byte_buffer{0xc1, 0x00, 0x00, 0x01});
    CHECK_THROWS_AS(aml::pkg_length(1u << 28), std::invalid_argument);
}

TEST_CASE("Name, Package, Scope and Device", "[x86_64][aml]") {
    // Name (_UID, One)
    CHECK(aml::name("_UID", aml::integer(1)) == byte_buffer{0x08, '_', 'U', 'I', 'D', 0x01});
    // Package () {5, 0}
    CHECK(aml::package({aml::integer(5), aml::integer(0)}) == byte_buffer{0x12, 0x05, 0x02, 0x0a, 0x05, 0x00});
    // Scope (\_SB) {}
    CHECK(aml::scope("\\_SB_", {}) == byte_buffer{0x10, 0x06, '\\', '_', 'S', 'B', '_'});
    // Device (COM1) { Name (_UID, One) }
    CHECK(aml::device("COM1", {aml::name("_UID", aml::integer(1))}) ==
          byte_buffer{0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D', 0x01});
    // A device body over 63 bytes takes a two-byte PkgLength.
    aml::Terms many(20, aml::name("_UID", aml::integer(1)));
    const byte_buffer big = aml::device("BIG_", many);
    CHECK(big.size() == 2 + 2 + 4 + 20 * 6);
    CHECK((big[2] >> 6) == 1);
    CHECK(static_cast<std::size_t>((big[2] & 0x0f) | (big[3] << 4)) == big.size() - 2);
}

TEST_CASE("resource descriptors and templates", "[x86_64][aml]") {
    // Memory32Fixed (ReadWrite, 0xD0000000, 0x1000)
    CHECK(aml::memory32_fixed(0xd000'0000, 0x1000) ==
          byte_buffer{0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00});
    // Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {16}
    CHECK(aml::extended_interrupt(16, true, false, false) ==
          byte_buffer{0x89, 0x06, 0x00, 0x03, 0x01, 0x10, 0x00, 0x00, 0x00});
    // Interrupt (ResourceConsumer, Level, ActiveLow, Shared) {5}
    CHECK(aml::extended_interrupt(5, false, true, true) ==
          byte_buffer{0x89, 0x06, 0x00, 0x0d, 0x01, 0x05, 0x00, 0x00, 0x00});
    // IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
    CHECK(aml::io_port(0x3f8, 8) == byte_buffer{0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08});
    // IRQNoFlags () {4}
    CHECK(aml::irq_no_flags(4) == byte_buffer{0x22, 0x10, 0x00});
    CHECK_THROWS_AS(aml::irq_no_flags(16), std::invalid_argument);
    // ResourceTemplate () { IRQNoFlags () {4} }: Buffer (5) {..., EndTag}
    CHECK(aml::resource_template({aml::irq_no_flags(4)}) ==
          byte_buffer{0x11, 0x08, 0x0a, 0x05, 0x22, 0x10, 0x00, 0x79, 0x00});
}
