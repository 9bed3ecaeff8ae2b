#include "ktstr/guest/kmsg_record.hpp"

#include <charconv>
#include <cstdio>

namespace ktstr::guest {
namespace {

template <typename T>
std::optional<T> decimal(std::string_view s) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<KmsgRecord> parse_kmsg_line(std::string_view line) {
    if (line.empty() || line.front() == ' ')
        return std::nullopt;
    const auto semi = line.find(';');
    if (semi == std::string_view::npos)
        return std::nullopt;
    std::string_view header = line.substr(0, semi);
    std::string_view fields[3];
    for (auto& f : fields) {
        const auto comma = header.find(',');
        if (comma == std::string_view::npos)
            return std::nullopt;  // fewer than four fields: flags are always there
        f = header.substr(0, comma);
        header.remove_prefix(comma + 1);
    }
    const auto prio = decimal<unsigned>(fields[0]);
    const auto seq = decimal<std::uint64_t>(fields[1]);
    const auto ts = decimal<std::uint64_t>(fields[2]);
    if (!prio || !seq || !ts)
        return std::nullopt;
    KmsgRecord r;
    r.level = *prio & 7u;
    r.facility = *prio >> 3;
    r.seq = *seq;
    r.ts_us = *ts;
    r.text = unescape_kmsg_text(line.substr(semi + 1));
    return r;
}

std::string unescape_kmsg_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
            const int hi = hex_digit(text[i + 2]);
            const int lo = hex_digit(text[i + 3]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 3;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

std::string format_dmesg_line(const KmsgRecord& r) {
    char stamp[40];
    const int n = std::snprintf(stamp, sizeof stamp, "[%5llu.%06llu] ",
                                static_cast<unsigned long long>(r.ts_us / 1000000),
                                static_cast<unsigned long long>(r.ts_us % 1000000));
    std::string out(stamp, static_cast<std::size_t>(n > 0 ? n : 0));
    out += r.text;
    if (r.truncated)
        out += " [truncated]";
    out += '\n';
    return out;
}

std::size_t KmsgStream::feed(std::string_view bytes, std::vector<KmsgRecord>& out) {
    std::size_t added = 0;
    while (!bytes.empty()) {
        const auto nl = bytes.find('\n');
        const std::string_view piece = bytes.substr(0, nl);
        if (!overlong_) {
            const std::size_t room = max_line - line_.size();
            line_.append(piece.substr(0, room));
            if (piece.size() > room)
                overlong_ = true;
        }
        if (nl == std::string_view::npos)
            break;
        end_line(out, added);
        bytes.remove_prefix(nl + 1);
    }
    return added;
}

void KmsgStream::end_line(std::vector<KmsgRecord>& out, std::size_t& added) {
    if (!line_.empty() && line_.front() == ' ') {
        ++continuation_lines_;
    } else if (auto r = parse_kmsg_line(line_)) {
        if (overlong_) {
            r->truncated = true;
            ++truncated_lines_;
        }
        out.push_back(std::move(*r));
        ++added;
    } else {
        ++malformed_lines_;
    }
    line_.clear();
    overlong_ = false;
}

}  // namespace ktstr::guest
