// Answers the guest's snapshot requests (SNRQ) with a SnapshotReply (SNRP)
// carrying the same request id, sent back through the bulk channel to port
// 1's receive side.
//
//  - kind 1 (capture): the host takes its capture, then replies OK. A
//    capture is a directory <output_dir>/snapshots/<request_id>-<tag>/
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
// Runs on the host loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

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
};

class SnapshotResponder {
public:
    // `send` takes one encoded SNRP frame and returns whether the device
    // accepted it whole.
    SnapshotResponder(SnapshotResponderConfig config, std::function<bool(byte_view)> send);

    // An SNRQ frame whose CRC matched.
    void on_request(const Frame& frame);

    const SnapshotStats& stats() const noexcept { return stats_; }

private:
    // The reason on failure, empty on success.
    std::string capture(std::uint32_t request_id, const std::string& tag);
    // <output_dir>/snapshots, opened once (without following a link);
    // -1 with `error` set on failure.
    int snapshots_dir(std::string& error);
    void reply(std::uint32_t request_id, SnapshotStatus status, std::string_view reason);

    SnapshotResponderConfig config_;
    std::function<bool(byte_view)> send_;
    SnapshotStats stats_;
    UniqueFd snapshots_fd_;
};

// The directory-name form of a tag: [A-Za-z0-9._-] kept, other bytes '_'.
std::string snapshot_dir_tag(std::string_view tag);

}  // namespace ktstr::host
