// AML encodings (ACPI 6.3 §20.2) and resource descriptors (§6.4).
#include "arch/x86_64/acpi/aml_writer.hpp"

#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "arch/x86_64/acpi/sdt.hpp"

namespace ktstr::vmm::x86_64::aml {
namespace {

// Opcodes (§20.2.5) and name prefixes (§20.2.2).
constexpr std::uint8_t zero_op = 0x00;
constexpr std::uint8_t one_op = 0x01;
constexpr std::uint8_t name_op = 0x08;
constexpr std::uint8_t byte_prefix = 0x0a;
constexpr std::uint8_t word_prefix = 0x0b;
constexpr std::uint8_t dword_prefix = 0x0c;
constexpr std::uint8_t string_prefix = 0x0d;
constexpr std::uint8_t qword_prefix = 0x0e;
constexpr std::uint8_t scope_op = 0x10;
constexpr std::uint8_t buffer_op = 0x11;
constexpr std::uint8_t package_op = 0x12;
constexpr std::uint8_t ext_op_prefix = 0x5b;
constexpr std::uint8_t device_op = 0x82;  // after ext_op_prefix
constexpr std::uint8_t root_char = '\\';
constexpr std::uint8_t dual_name_prefix = 0x2e;
constexpr std::uint8_t multi_name_prefix = 0x2f;
constexpr std::uint8_t null_name = 0x00;

// Resource descriptor tags (§6.4.2, §6.4.3).
constexpr std::uint8_t irq_no_flags_tag = 0x22;  // small item 0x04, length 2
constexpr std::uint8_t io_port_tag = 0x47;       // small item 0x08, length 7
constexpr std::uint8_t end_tag = 0x79;           // small item 0x0f, length 1
constexpr std::uint8_t memory32_fixed_tag = 0x86;
constexpr std::uint8_t extended_interrupt_tag = 0x89;

void append(byte_buffer& out, const byte_buffer& more) { out.insert(out.end(), more.begin(), more.end()); }

byte_buffer concat(const Terms& terms) {
    byte_buffer out;
    for (const auto& t : terms)
        append(out, t);
    return out;
}

bool lead_name_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return lead_name_char(c) || (c >= '0' && c <= '9'); }

void append_name_seg(byte_buffer& out, std::string_view seg, std::string_view path) {
    if (seg.empty() || seg.size() > 4 || !lead_name_char(seg[0]))
        throw std::invalid_argument(fmt::format("bad ACPI name segment '{}' in '{}'", seg, path));
    for (char c : seg)
        if (!name_char(c))
            throw std::invalid_argument(fmt::format("bad character in ACPI name '{}'", path));
    acpi::append_chars(out, seg);
    for (std::size_t i = seg.size(); i < 4; ++i)
        out.push_back('_');
}

// Opcode(s), PkgLength, then the body.
byte_buffer with_pkg_length(std::initializer_list<std::uint8_t> opcode, const byte_buffer& body) {
    byte_buffer out(opcode);
    append(out, pkg_length(body.size()));
    append(out, body);
    return out;
}

}  // namespace

byte_buffer name_string(std::string_view path) {
    byte_buffer out;
    std::string_view rest = path;
    if (!rest.empty() && rest.front() == '\\') {
        out.push_back(root_char);
        rest.remove_prefix(1);
    }
    std::vector<std::string_view> segs;
    while (!rest.empty()) {
        const auto dot = rest.find('.');
        segs.push_back(rest.substr(0, dot));
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
        if (dot != std::string_view::npos && rest.empty())
            throw std::invalid_argument(fmt::format("ACPI name '{}' ends with '.'", path));
    }
    if (segs.empty()) {
        if (out.empty())
            throw std::invalid_argument("empty ACPI name");
        out.push_back(null_name);
        return out;
    }
    if (segs.size() > 255)
        throw std::invalid_argument("ACPI name has more than 255 segments");
    if (segs.size() == 2) {
        out.push_back(dual_name_prefix);
    } else if (segs.size() > 2) {
        out.push_back(multi_name_prefix);
        out.push_back(static_cast<std::uint8_t>(segs.size()));
    }
    for (auto seg : segs)
        append_name_seg(out, seg, path);
    return out;
}

byte_buffer pkg_length(std::size_t content) {
    // One byte holds lengths up to 63 in bits 5:0; with 1..3 following
    // bytes the lead byte keeps 4 bits and each follower 8 more. The
    // length counts the PkgLength bytes themselves.
    if (content + 1 < 0x40)
        return {static_cast<std::uint8_t>(content + 1)};
    for (std::size_t extra = 1; extra <= 3; ++extra) {
        const std::size_t total = content + 1 + extra;
        if (total >= (std::size_t{1} << (4 + 8 * extra)))
            continue;
        byte_buffer out{static_cast<std::uint8_t>((extra << 6) | (total & 0x0f))};
        for (std::size_t i = 0; i < extra; ++i)
            out.push_back(static_cast<std::uint8_t>(total >> (4 + 8 * i)));
        return out;
    }
    throw std::invalid_argument(fmt::format("AML package of {} bytes is too long", content));
}

byte_buffer integer(std::uint64_t v) {
    byte_buffer out;
    if (v == 0) {
        out.push_back(zero_op);
    } else if (v == 1) {
        out.push_back(one_op);
    } else if (v <= UINT8_MAX) {
        out.push_back(byte_prefix);
        out.push_back(static_cast<std::uint8_t>(v));
    } else if (v <= UINT16_MAX) {
        out.push_back(word_prefix);
        acpi::append_le(out, static_cast<std::uint16_t>(v));
    } else if (v <= UINT32_MAX) {
        out.push_back(dword_prefix);
        acpi::append_le(out, static_cast<std::uint32_t>(v));
    } else {
        out.push_back(qword_prefix);
        acpi::append_le(out, v);
    }
    return out;
}

byte_buffer string(std::string_view s) {
    byte_buffer out{string_prefix};
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u == 0 || u > 0x7f)
            throw std::invalid_argument("AML strings hold ASCII 0x01..0x7f only");
        out.push_back(static_cast<std::uint8_t>(c));
    }
    out.push_back(0);
    return out;
}

byte_buffer eisa_id(std::string_view id) {
    // Three letters, 5 bits each ('A' = 1), then four hex digits; the
    // 32-bit value is stored most significant byte first.
    auto hex = [&](char c) -> std::uint32_t {
        if (c >= '0' && c <= '9')
            return static_cast<std::uint32_t>(c - '0');
        if (c >= 'A' && c <= 'F')
            return static_cast<std::uint32_t>(c - 'A' + 10);
        throw std::invalid_argument(fmt::format("bad EISA id '{}'", id));
    };
    if (id.size() != 7)
        throw std::invalid_argument(fmt::format("bad EISA id '{}'", id));
    std::uint32_t be = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        if (id[i] < 'A' || id[i] > 'Z')
            throw std::invalid_argument(fmt::format("bad EISA id '{}'", id));
        be = (be << 5) | static_cast<std::uint32_t>(id[i] - 'A' + 1);
    }
    for (std::size_t i = 3; i < 7; ++i)
        be = (be << 4) | hex(id[i]);
    byte_buffer out{dword_prefix};
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(be >> shift));
    return out;
}

byte_buffer package(const Terms& elements) {
    if (elements.size() > 255)
        throw std::invalid_argument("AML Package holds at most 255 elements");
    byte_buffer body{static_cast<std::uint8_t>(elements.size())};
    append(body, concat(elements));
    return with_pkg_length({package_op}, body);
}

byte_buffer buffer(byte_view bytes) {
    byte_buffer body = integer(bytes.size());
    body.insert(body.end(), bytes.begin(), bytes.end());
    return with_pkg_length({buffer_op}, body);
}

byte_buffer name(std::string_view path, const byte_buffer& object) {
    byte_buffer out{name_op};
    append(out, name_string(path));
    append(out, object);
    return out;
}

byte_buffer scope(std::string_view path, const Terms& terms) {
    byte_buffer body = name_string(path);
    append(body, concat(terms));
    return with_pkg_length({scope_op}, body);
}

byte_buffer device(std::string_view path, const Terms& terms) {
    byte_buffer body = name_string(path);
    append(body, concat(terms));
    return with_pkg_length({ext_op_prefix, device_op}, body);
}

byte_buffer resource_template(const Terms& descriptors) {
    byte_buffer body = concat(descriptors);
    body.push_back(end_tag);
    body.push_back(0);  // checksum 0: "treat as if the checksum matched"
    return buffer(body);
}

byte_buffer memory32_fixed(std::uint32_t base, std::uint32_t length, bool writable) {
    byte_buffer out{memory32_fixed_tag};
    acpi::append_le<std::uint16_t>(out, 9);  // bytes after the length field
    out.push_back(writable ? 1 : 0);
    acpi::append_le(out, base);
    acpi::append_le(out, length);
    return out;
}

byte_buffer extended_interrupt(std::uint32_t gsi, bool edge, bool active_low, bool shared) {
    byte_buffer out{extended_interrupt_tag};
    acpi::append_le<std::uint16_t>(out, 6);  // flags, count, one interrupt
    const unsigned consumer = 1;
    out.push_back(static_cast<std::uint8_t>(consumer | (edge ? 2u : 0u) | (active_low ? 4u : 0u) |
                                            (shared ? 8u : 0u)));
    out.push_back(1);
    acpi::append_le(out, gsi);
    return out;
}

byte_buffer io_port(std::uint16_t base, std::uint8_t length, std::uint8_t alignment) {
    byte_buffer out{io_port_tag, 1};  // decodes 16 address bits
    acpi::append_le(out, base);       // minimum
    acpi::append_le(out, base);       // maximum
    out.push_back(alignment);
    out.push_back(length);
    return out;
}

byte_buffer irq_no_flags(std::uint8_t irq) {
    if (irq > 15)
        throw std::invalid_argument(fmt::format("IRQNoFlags takes ISA IRQs 0..15, not {}", irq));
    byte_buffer out{irq_no_flags_tag};
    acpi::append_le(out, static_cast<std::uint16_t>(1u << irq));
    return out;
}

}  // namespace ktstr::vmm::x86_64::aml
