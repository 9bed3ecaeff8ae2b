#include "ktstr/host/terminal_text.hpp"

#include <cstdint>

namespace ktstr::host {
namespace {

void append_escape(std::string& out, std::uint32_t v) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\x";
    out.push_back(hex[(v >> 4) & 0xf]);
    out.push_back(hex[v & 0xf]);
}

// Length of the valid UTF-8 sequence at the start of `s` (1-4), or 0 when
// the first byte does not start one (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). `cp` gets its code point.
std::size_t utf8_sequence(std::string_view s, std::uint32_t& cp) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    const std::uint8_t c = b(0);
    std::size_t n;
    std::uint32_t min;
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1fu, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0fu, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < n)
        return 0;
    for (std::size_t i = 1; i < n; ++i) {
        if ((b(i) & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (b(i) & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void append_line(std::string& out, std::string_view text, std::size_t max_bytes) {
    const std::size_t start = out.size();
    std::size_t i = 0;
    while (i < text.size()) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_sequence(text.substr(i), cp);
        // What this character becomes: an escape or itself.
        const bool escape = n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
        const std::size_t width = escape ? 4 : n;
        if (out.size() - start + width > max_bytes)
            break;
        if (escape)
            append_escape(out, n == 0 ? static_cast<std::uint8_t>(text[i]) : cp);
        else
            out.append(text.substr(i, n));
        i += n == 0 ? 1 : n;
    }
    if (i < text.size())
        out += " ... (" + std::to_string(text.size() - i) + " bytes more)";
}

}  // namespace

std::string terminal_line(std::string_view guest_text, std::size_t max_bytes) {
    std::string out;
    append_line(out, guest_text, max_bytes);
    return out;
}

std::string terminal_lines(std::string_view guest_text, std::string_view prefix, std::size_t max_lines,
                           std::size_t max_line_bytes) {
    std::string out;
    std::size_t lines = 0;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t nl = guest_text.find('\n', pos);
        std::string_view line = guest_text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        // A CRLF line end (a serial console's) is a line end, not a
        // control character to show.
        if (nl != std::string_view::npos && line.ends_with('\r'))
            line.remove_suffix(1);
        if (lines == max_lines) {
            // Count what is left, this line included; a text ending in
            // '\n' has no empty line after it.
            std::size_t more = 1;
            for (std::size_t p = nl; p != std::string_view::npos && p + 1 < guest_text.size();
                 p = guest_text.find('\n', p + 1))
                ++more;
            out.append(prefix);
            out += "... (" + std::to_string(more) + " lines more)\n";
            return out;
        }
        out.append(prefix);
        append_line(out, line, max_line_bytes);
        out.push_back('\n');
        ++lines;
        if (nl == std::string_view::npos || nl + 1 == guest_text.size())
            return out;
        pos = nl + 1;
    }
}

}  // namespace ktstr::host
