// The message log (`ktstr-vmm run --messages FILE`): every frame the host
// receives, on either channel, as one JSON line in the `decode` format
// (common/frame_json.hpp, docs/wire-format.md "JSON lines") with one key
// more at the end, "channel" ("bulk" or "shm"), in the order the host loop
// dispatched them. No summary line: the run result carries the totals.
//
// Written from the host loop's thread only. A write error is remembered
// (error()) and ends the log; it never throws into the loop.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ktstr/common/frame.hpp"
#include "ktstr/host/dispatcher.hpp"

namespace ktstr::host {

// One JSON line (without the newline) for `frame`: frame_to_json's object
// and "channel", except that a JSON payload nested deeper than
// max_json_nesting (json_nesting.hpp) is not parsed and gets
// {"error": ...} as its fields. Invalid UTF-8 in text fields is replaced
// by U+FFFD.
std::string frame_json_line(Channel channel, const Frame& frame);

class MessageLog {
public:
    // Creates or truncates `path`. Throws std::runtime_error with a
    // one-line message when it cannot be opened.
    explicit MessageLog(std::filesystem::path path);

    void write(Channel channel, const Frame& frame) noexcept;
    // Pushes buffered lines to the file; false after any write error.
    bool flush() noexcept;
    // Flushes, then copies every line written so far to `dest` (a snapshot
    // capture). false with `error` set on failure.
    bool copy_to(const std::filesystem::path& dest, std::string& error) noexcept;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::uint64_t lines() const noexcept { return lines_; }
    std::uint64_t bytes() const noexcept { return bytes_; }
    const std::string& error() const noexcept { return error_; }

private:
    struct FileCloser {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };

    void fail(const std::string& what) noexcept;

    std::filesystem::path path_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    std::vector<char> buffer_;  // stdio buffer: a line per frame, written in large blocks
    std::uint64_t lines_ = 0;
    std::uint64_t bytes_ = 0;
    std::string error_;
};

}  // namespace ktstr::host
