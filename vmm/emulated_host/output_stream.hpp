// How the inner command's output files travel from the emulated host's
// guest back to the caller: one byte stream on the "ktstr.files" virtio
// port, written by the guest side after the inner command exited and read
// by the host side while QEMU runs.
//
// The stream is a sequence of records, each a fixed 24-byte header
// (little-endian) followed by `path_len` bytes of absolute path and, for
// a file, `size` bytes of content:
//
//     offset 0   magic     "KTOF"
//            4   kind      1 = regular file, 2 = directory, 3 = end of stream
//            8   mode      permission bits (07777 mask)
//           12   path_len  1..4096 (0 for the end record)
//           16   size      content bytes (0 for directories and the end)
//
// The reader trusts nothing: every path must be absolute, free of "." and
// ".." components, and equal to or below one of the outputs the caller
// declared; nothing is allocated in proportion to `size` (content goes
// straight to disk); a file appears under its name only once complete
// (written to "<name>.ktstr-partial", then renamed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "kvm/unique_fd.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::emulated_host {

struct OutputRecordHeader {
    char magic[4];
    std::uint32_t kind;
    std::uint32_t mode;
    std::uint32_t path_len;
    std::uint64_t size;
};
static_assert(sizeof(OutputRecordHeader) == 24);
static_assert(offsetof(OutputRecordHeader, kind) == 4);
static_assert(offsetof(OutputRecordHeader, mode) == 8);
static_assert(offsetof(OutputRecordHeader, path_len) == 12);
static_assert(offsetof(OutputRecordHeader, size) == 16);

inline constexpr std::uint32_t output_kind_file = 1;
inline constexpr std::uint32_t output_kind_directory = 2;
inline constexpr std::uint32_t output_kind_end = 3;
inline constexpr std::uint32_t output_max_path = 4096;

// Guest side: writes every output that exists (a regular file, or a
// directory with everything below it; symbolic links and special files
// are skipped) and the end record to `fd`. Missing outputs are skipped
// silently: the command may not have written them. Throws
// std::runtime_error naming the file on a read or write failure.
void write_outputs(int fd, const std::vector<std::filesystem::path>& outputs);

// Host side: a push parser that materialises the records under the
// declared outputs as the bytes arrive.
class OutputReceiver {
public:
    // `outputs`: absolute, normalised host paths the stream may write.
    explicit OutputReceiver(std::vector<std::filesystem::path> outputs);
    ~OutputReceiver();
    OutputReceiver(const OutputReceiver&) = delete;
    OutputReceiver& operator=(const OutputReceiver&) = delete;

    // Consumes bytes. After the first error every later byte is ignored.
    void feed(byte_view bytes);
    // The stream ended (EOF). Returns the first error, or nullopt when the
    // stream was complete (an end record, or no byte at all: a guest that
    // never got as far as writing outputs is reported by the exit code).
    std::optional<std::string> finish();

    std::optional<std::string> error() const { return error_; }
    const std::vector<std::filesystem::path>& received() const noexcept { return received_; }

private:
    void fail(std::string why);
    void start_record();
    void close_file(bool keep);

    std::vector<std::filesystem::path> outputs_;
    std::vector<std::uint8_t> header_;  // header and path bytes being collected
    OutputRecordHeader current_{};
    bool have_header_ = false;
    bool ended_ = false;
    bool any_bytes_ = false;
    std::uint64_t remaining_ = 0;       // content bytes of the current file still to come
    std::filesystem::path target_;      // the current file's final name
    std::filesystem::path partial_;     // where its content goes meanwhile
    UniqueFd file_;
    std::vector<std::filesystem::path> received_;
    std::optional<std::string> error_;
};

// True when `path` is absolute and has no empty, "." or ".." component.
bool is_plain_absolute(const std::filesystem::path& path);

}  // namespace ktstr::vmm::emulated_host
