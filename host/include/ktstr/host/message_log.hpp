// The message log (`ktstr-vmm run --messages FILE`): every frame the host
// receives, on either channel, as one JSON line in the `decode` format
// (common/frame_json.hpp, docs/wire-format.md "JSON lines") with one key
// more at the end, "channel" ("bulk" or "shm"), in the order the host loop
// dispatched them. No summary line: the run result carries the totals.
//
// Bounded: the frame lines stop at `max_bytes` (a guest must not fill the
// disk). From the first line that would not fit on, no frame is written
// (the log stays a prefix of the run); they are counted, and finish()
// ends the log with one line {"left_out": {"frames": N, "payload_bytes":
// M, "cap_bytes": C}} saying so.
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

inline constexpr std::uint64_t message_log_default_max_bytes = 256ull << 20;

class MessageLog {
public:
    // Creates or truncates `path`; with `no_follow`, a symbolic link there
    // is refused rather than followed (a log inside a directory others may
    // write to). Throws std::runtime_error with a one-line message when it
    // cannot be opened.
    explicit MessageLog(std::filesystem::path path, std::uint64_t max_bytes = message_log_default_max_bytes,
                        bool no_follow = false);

    void write(Channel channel, const Frame& frame) noexcept;
    // The end of the run: the "left_out" line if frames were left out,
    // then flush(). Later writes are left out too; later calls do nothing
    // more than flush().
    bool finish() noexcept;
    // Pushes buffered lines to the file; false after any write error.
    bool flush() noexcept;

    const std::filesystem::path& path() const noexcept { return path_; }
    // Frame lines written and their bytes (newlines included).
    std::uint64_t lines() const noexcept { return lines_; }
    std::uint64_t bytes() const noexcept { return bytes_; }
    // Frames not written because of the cap, and their payload bytes.
    std::uint64_t left_out_frames() const noexcept { return left_out_frames_; }
    std::uint64_t left_out_payload_bytes() const noexcept { return left_out_payload_bytes_; }
    const std::string& error() const noexcept { return error_; }

private:
    struct FileCloser {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };

    void fail(const std::string& what) noexcept;

    std::filesystem::path path_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    std::vector<char> buffer_;  // stdio buffer: a line per frame, written in large blocks
    std::uint64_t max_bytes_;
    std::uint64_t lines_ = 0;
    std::uint64_t bytes_ = 0;
    bool capped_ = false;    // a line did not fit: every later frame is left out
    bool finished_ = false;
    std::uint64_t left_out_frames_ = 0;
    std::uint64_t left_out_payload_bytes_ = 0;
    std::string error_;
};

}  // namespace ktstr::host
