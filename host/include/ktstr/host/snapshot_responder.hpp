// Answers the guest's snapshot requests (SNRQ) with a SnapshotReply (SNRP)
// carrying the same request id, sent back through the bulk channel to port
// 1's receive side.
//
//  - kind 1 (capture): the host takes its capture, then replies OK. The
//    checks, the directory and capture.json's content are done on the
//    loop's thread at the request; the files are written on a capture
//    thread (capture_worker), so copying the region never holds up the
//    loop; the reply goes out once both files are on disk, from the loop's
//    thread again (deliver_captures()). At most max_pending_captures are
//    being written at once; a request beyond that gets ERR "capture queue
//    full". A capture is a directory <output_dir>/snapshots/<request_id>-<tag>/
//    holding shm.bin (a copy of the whole SHM region, header included, as
//    the guest left it) and capture.json: the request id, the tag, and the
//    message log's path, line count and byte count at the request (its
//    first message_log_lines lines are the frames up to and including the
//    request; the log itself is not copied). The tag is reduced to
//    [A-Za-z0-9._-] (other bytes become '_'), so a guest cannot name a path
//    outside the directory; a name already taken gets ".1", ".2", ...
//    Below output_dir nothing is created or opened through a symbolic
//    link: "snapshots" must be a real directory, capture directories are
//    new ones (mkdirat), files new ones (O_EXCL | O_NOFOLLOW).
//    ERR when there is no output directory, the capture limit or the byte
//    budget (max_bytes over every capture's files) is reached, or a
//    directory or file cannot be made.
//  - kind 2 (watch): ERR "watch snapshots are not supported": the host
//    has no watchpoint machinery (ktstr arms a hardware watchpoint on a
//    kernel symbol through its monitor, which this host does not have).
//  - kinds 0x100/0x101 (ShmDrainHold/ShmDrainRelease, ktstr-vmm's own):
//    passed to `shm_drain_control`, which acts before the reply is sent;
//    OK when it returns no error, ERR with its reason otherwise, ERR
//    "no SHM drain control" without one.
//  - kind 0 and unknown kinds: ERR with the reason.
//  - a payload that is not 72 bytes carries no trustworthy id: counted as
//    malformed, not answered (the guest's client times out).
//
// Runs on the host loop's thread, apart from the capture thread's writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "ktstr/host/message_log.hpp"
#include "ktstr/host/run_result.hpp"

namespace ktstr::host {

// Holds (true) or releases (false) the live SHM drain; returns the reason
// on failure, empty on success.
using ShmDrainControl = std::function<std::string(bool hold)>;

struct SnapshotResponderConfig {
    std::filesystem::path output_dir;      // empty: captures answer ERR
    std::optional<SharedRegion> shm;       // copied into shm.bin when set
    MessageLog* message_log = nullptr;     // its position goes into capture.json when set
    std::size_t max_captures = 64;         // a guest cannot fill the disk with captures
    std::uint64_t max_bytes = 1ull << 30;  // nor with large ones: shm.bin bytes over all captures
    ShmDrainControl shm_drain_control;     // empty: hold/release answer ERR
    std::size_t max_pending_captures = 4;  // being written at once; more answer ERR
    // Called on the capture thread each time a capture's files are written:
    // the owner then calls deliver_captures() on its own thread (the host
    // loop posts it). May be empty: the owner calls wait_captures().
    std::function<void()> on_capture_written;
    // Called on the capture thread before each capture's files are written.
    // A test seam: a test holds it to keep captures pending.
    std::function<void()> before_capture_write;
};

class CaptureWorker;

class SnapshotResponder {
public:
    // `send` takes one encoded SNRP frame and returns whether the device
    // accepted it whole.
    SnapshotResponder(SnapshotResponderConfig config, std::function<bool(byte_view)> send);
    // Captures not yet written are dropped (their requests get no reply).
    ~SnapshotResponder();
    SnapshotResponder(SnapshotResponder&&) = delete;

    // An SNRQ frame whose CRC matched.
    void on_request(const Frame& frame);
    // Replies for the captures written since the last call, in request
    // order; counts them in stats().
    void deliver_captures();
    // Waits until every capture requested so far is written, then
    // delivers. The host loop's final pass calls it.
    void wait_captures();
    // Captures requested and not yet delivered.
    std::size_t pending_captures() const noexcept { return pending_; }

    const SnapshotStats& stats() const noexcept { return stats_; }

private:
    struct WrittenCapture {
        std::uint32_t request_id = 0;
        std::string error;  // empty: both files written
        std::string dir;
    };

    // Starts a capture; the reason on failure, empty when it was queued.
    std::string capture(std::uint32_t request_id, const std::string& tag);
    // <output_dir>/snapshots, opened once (without following a link);
    // -1 with `error` set on failure.
    int snapshots_dir(std::string& error);
    void reply(std::uint32_t request_id, SnapshotStatus status, std::string_view reason);

    SnapshotResponderConfig config_;
    std::function<bool(byte_view)> send_;
    SnapshotStats stats_;
    UniqueFd snapshots_fd_;
    std::size_t pending_ = 0;  // loop thread
    std::mutex written_mutex_;
    std::vector<WrittenCapture> written_;  // capture thread -> loop thread
    std::unique_ptr<CaptureWorker> worker_;  // last: joined before the rest goes
};

// The directory-name form of a tag: [A-Za-z0-9._-] kept, other bytes '_'.
std::string snapshot_dir_tag(std::string_view tag);

}  // namespace ktstr::host
