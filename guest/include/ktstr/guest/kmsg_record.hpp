// Records of the kernel log in the form /dev/kmsg hands them out
// (Documentation/ABI/testing/dev-kmsg):
//
//   prio,seq,ts_usec,flags[,more fields];text\n
//    KEY=value\n                     continuation lines: the record's
//                                    dictionary, each starting with a space
//
// In the text, bytes below 0x20, from 0x7f up and '\' are escaped as \xNN
// (so a record is always one line). Pure and bounded: any input is
// accepted, no line costs more than max_line bytes of memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::guest {

struct KmsgRecord {
    unsigned level = 0;     // prio & 7 (0 emergency ... 7 debug)
    unsigned facility = 0;  // prio >> 3 (0: the kernel)
    std::uint64_t seq = 0;
    std::uint64_t ts_us = 0;  // microseconds since boot
    std::string text;         // unescaped
    bool truncated = false;   // the line was longer than KmsgStream::max_line; text is its beginning

    friend bool operator==(const KmsgRecord&, const KmsgRecord&) = default;
};

// One record line, without its newline. nullopt when it is not a record:
// a continuation line, or a header whose prio, seq or timestamp is not a
// decimal number, or no ';'.
std::optional<KmsgRecord> parse_kmsg_line(std::string_view line);

// The text with every \xNN escape turned back into its byte; a '\' that
// does not start one is kept as it is.
std::string unescape_kmsg_text(std::string_view text);

// "[   12.345678] text\n", the form dmesg prints (a text with newlines
// stays one entry).
std::string format_dmesg_line(const KmsgRecord& r);

// Splits a byte stream into records. /dev/kmsg returns one record per
// read, but a file or pipe standing in for it (tests) returns any chunk,
// so lines are reassembled across feeds. Continuation lines are counted
// and skipped; lines that are no record are counted and skipped.
class KmsgStream {
public:
    // Longer lines are cut: their first max_line bytes are parsed (the
    // record is marked truncated), the rest is skipped up to the newline.
    // The kernel's own records stay under 8 KiB even escaped.
    static constexpr std::size_t max_line = 16 * 1024;

    // Appends the records completed by `bytes` to `out`; returns how many.
    std::size_t feed(std::string_view bytes, std::vector<KmsgRecord>& out);

    std::uint64_t continuation_lines() const noexcept { return continuation_lines_; }
    std::uint64_t malformed_lines() const noexcept { return malformed_lines_; }
    std::uint64_t truncated_lines() const noexcept { return truncated_lines_; }

private:
    void end_line(std::vector<KmsgRecord>& out, std::size_t& added);

    std::string line_;          // the current line so far, at most max_line bytes
    bool overlong_ = false;     // the current line went past max_line
    std::uint64_t continuation_lines_ = 0;
    std::uint64_t malformed_lines_ = 0;
    std::uint64_t truncated_lines_ = 0;
};

}  // namespace ktstr::guest
