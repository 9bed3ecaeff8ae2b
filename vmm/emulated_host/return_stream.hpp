// Everything that comes back from the emulated host's guest to the caller,
// as one byte stream on the "ktstr.data" virtio port: the inner command's
// stdout and stderr as they are produced, then its output files, then an
// end record. The host answers the end record with one acknowledgement
// byte on the same port, and only then does the guest side exit and let
// ktstr-init power off: QEMU drops whatever a port still holds when the
// guest powers off, so without that handshake the tail of a large output
// could be lost (observed: 6.5 MB written, 2.3 MB arrived).
//
// The stream is a sequence of records, each a fixed 24-byte header
// (little-endian) followed by `path_len` bytes of absolute path and then
// `size` bytes of content:
//
//     offset 0   magic     "KTOF"
//            4   kind      1 regular file, 2 directory, 3 end of stream,
//                          4 stdout chunk, 5 stderr chunk
//            8   mode      permission bits (0777 mask; a file's is applied,
//                          never setuid, setgid or sticky)
//           12   path_len  1..4096 for files and directories, else 0
//           16   size      content bytes: a file's size; 1..1 MiB for a
//                          chunk; 0 for directories and the end
//
// The reader trusts nothing: every path must be absolute and free of "."
// and ".." components; a directory record must be a declared output
// directory or below one, a file record strictly below one or a declared
// output file; every component below a declared directory is opened or
// created without following symbolic links (openat, O_NOFOLLOW), so a link
// planted inside an output cannot lead outside it; nothing is allocated in
// proportion to `size` (chunks are passed on as they arrive, file content
// goes straight to disk) or to the number of records (nothing is kept per
// record); a file appears under its name only once complete (written to
// "<name>.ktstr-partial" in the same directory, then renamed); what the
// records may put on disk is bounded (ReturnLimits: content bytes and
// entries over the whole stream), checked from each header before a byte
// of its content is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ktstr/common/unique_fd.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::emulated_host {

struct ReturnRecordHeader {
    char magic[4];
    std::uint32_t kind;
    std::uint32_t mode;
    std::uint32_t path_len;
    std::uint64_t size;
};
static_assert(sizeof(ReturnRecordHeader) == 24);
static_assert(offsetof(ReturnRecordHeader, kind) == 4);
static_assert(offsetof(ReturnRecordHeader, mode) == 8);
static_assert(offsetof(ReturnRecordHeader, path_len) == 12);
static_assert(offsetof(ReturnRecordHeader, size) == 16);

inline constexpr std::uint32_t return_kind_file = 1;
inline constexpr std::uint32_t return_kind_directory = 2;
inline constexpr std::uint32_t return_kind_end = 3;
inline constexpr std::uint32_t return_kind_stdout = 4;
inline constexpr std::uint32_t return_kind_stderr = 5;
inline constexpr std::uint32_t return_max_path = 4096;
inline constexpr std::uint64_t return_max_chunk = 1 << 20;
// The mode bits a returned file keeps: rwx for user, group and other.
inline constexpr std::uint32_t return_mode_mask = 0777;

// The host's answer to the end record.
inline constexpr char return_ack = 'K';

// Guest side writers. Each throws std::runtime_error on a write failure.
// A chunk of the inner command's stdout (return_kind_stdout) or stderr;
// longer data is split into several records.
void write_output_chunk(int fd, std::uint32_t kind, byte_view data);
// Every output that exists (a regular file, or a directory with
// everything below it; symbolic links and special files are skipped).
// Missing outputs are skipped silently: the command may not have written
// them. Also throws naming the file on a read failure.
void write_outputs(int fd, const std::vector<std::filesystem::path>& outputs);
void write_end(int fd);

// What the caller declared the stream may write: absolute, normalised
// host paths of files, and of directories.
struct ReturnOutputs {
    std::vector<std::filesystem::path> files{};
    std::vector<std::filesystem::path> directories{};
};

// The most one stream may put on disk. The defaults sit well above what
// ktstr-vmm's own outputs can reach (`run`: a 64 MiB console log, a
// 256 MiB message log, 1 GiB of snapshot captures in at most 64
// directories), so only a stream gone wrong meets them.
struct ReturnLimits {
    std::uint64_t max_file_bytes = 4ull << 30;  // file content over all file records
    std::uint64_t max_entries = 4096;           // file and directory records
};

// Host side: a push parser that passes output chunks on and materialises
// files under the declared outputs as the bytes arrive.
class ReturnStreamReceiver {
public:
    // `on_output(kind, bytes)`: a piece of stdout or stderr (kind 4 or 5).
    ReturnStreamReceiver(ReturnOutputs outputs,
                         std::function<void(std::uint32_t kind, byte_view bytes)> on_output,
                         ReturnLimits limits = {});
    ~ReturnStreamReceiver();
    ReturnStreamReceiver(const ReturnStreamReceiver&) = delete;
    ReturnStreamReceiver& operator=(const ReturnStreamReceiver&) = delete;

    // Consumes bytes. After the first error every later byte is ignored.
    void feed(byte_view bytes);
    // The end record has been read (time to acknowledge).
    bool ended() const noexcept { return ended_; }
    // The stream ended (EOF). Returns the first error, or nullopt when the
    // stream was complete, or had no byte at all (a guest that never got as
    // far is reported by its exit code).
    std::optional<std::string> finish();

    std::optional<std::string> error() const { return error_; }

private:
    void fail(std::string why);
    void start_record();
    void close_file(bool keep);

    ReturnOutputs outputs_;
    std::function<void(std::uint32_t, byte_view)> on_output_;
    ReturnLimits limits_;
    std::uint64_t file_bytes_ = 0;      // announced by the file records so far
    std::uint64_t entries_ = 0;         // file and directory records so far
    std::vector<std::uint8_t> header_;  // header and path bytes being collected
    ReturnRecordHeader current_{};
    bool have_header_ = false;
    bool ended_ = false;
    bool any_bytes_ = false;
    std::uint64_t remaining_ = 0;       // content bytes of the current record still to come
    std::uint32_t content_kind_ = 0;    // the record whose content is arriving (0: none)
    std::filesystem::path target_;      // the current file's full path, for messages
    UniqueFd dir_;                      // the directory it goes into
    std::string name_;                  // its name there; content goes to name_ + ".ktstr-partial" meanwhile
    UniqueFd file_;
    std::optional<std::string> error_;
};

// True when `path` is absolute and has no empty, "." or ".." component.
bool is_plain_absolute(const std::filesystem::path& path);

}  // namespace ktstr::vmm::emulated_host
