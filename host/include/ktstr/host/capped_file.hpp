// A file in the run's output directory that guest bytes stream into (the
// scheduler's output, the kernel log the guest sends back), bounded: the
// guest decides how much it sends, the host decides how much disk it gets.
//
// The file is created on the first bytes (a run without any leaves no
// file), refusing to follow a link or reuse an existing file (O_EXCL), with
// mode 0600. Past `max_bytes` the rest is counted, not written, and one
// closing line says so; a write error stops writing and is kept. Not
// thread-safe: one writer (the host loop's thread); read the counts after
// it stopped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "ktstr/host/output_sink.hpp"

namespace ktstr::host {

class CappedFile {
public:
    CappedFile(std::filesystem::path path, std::uint64_t max_bytes);

    // Writes what fits under the cap. False once the file could not be
    // created or written (error() says why).
    bool write(byte_view bytes);

    const std::filesystem::path& path() const noexcept { return path_; }
    bool exists() const noexcept { return static_cast<bool>(fd_); }
    std::uint64_t written() const noexcept { return written_; }
    std::uint64_t left_out() const noexcept { return left_out_; }
    const std::string& error() const noexcept { return error_; }

private:
    std::filesystem::path path_;
    std::uint64_t max_bytes_;
    UniqueFd fd_;
    std::uint64_t written_ = 0;
    std::uint64_t left_out_ = 0;
    std::string error_;
};

// A sink writing into `file` (shared: the sink may outlive the caller's
// handle, and the caller reads the counts afterwards).
OutputSink capped_file_sink(std::shared_ptr<CappedFile> file);

}  // namespace ktstr::host
