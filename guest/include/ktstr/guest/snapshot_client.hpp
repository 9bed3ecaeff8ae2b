// Snapshot requests: the guest asks the host to capture its state (or to
// arm a watchpoint) and waits for the host's reply on the same port.
//
// One request is in flight per process (a mutex) and per guest (a lock
// file), so replies cannot go to the wrong waiter. Request ids come from
// an atomic counter that skips 0. The reply is read from the bulk port's
// descriptor with bounded reads: ppoll slices of 100 us four times, then
// 5 ms, never past the deadline. A reply header announcing more than the
// 72-byte reply payload is rejected before anything is allocated; the
// CRC is checked; frames of other types, malformed reply payloads and
// replies to other (stale) ids are skipped.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/payloads.hpp"

namespace ktstr::guest {

struct SnapshotResult {
    enum class Status {
        ok,               // host replied OK
        host_error,       // host replied ERR; reason is its text
        transport_error,  // no valid reply: not a guest, port missing, I/O error, deadline
    };
    Status status = Status::transport_error;
    std::string reason;
    std::uint32_t request_id = 0;  // 0 when no request was sent
};

const char* to_string(SnapshotResult::Status s) noexcept;

// Sends a SnapshotRequest of `kind` (SnapshotKind values; others are sent
// as given, the host answers ERR) with `tag` (cut at 64 bytes on a UTF-8
// boundary) and waits up to `timeout` for the matching reply.
SnapshotResult request_snapshot(std::uint32_t kind, std::string_view tag, std::chrono::milliseconds timeout);

// --- the reading layer, exposed for tests ---------------------------------

// Largest payload accepted on the port's receive side: the reply payload.
inline constexpr std::size_t max_reply_payload = sizeof(SnapshotReplyPayload);

enum class ReadFailure { none, timed_out, end_of_file, invalid_data, io_error };

struct ReadOutcome {
    ReadFailure failure = ReadFailure::none;
    std::string message;  // why, when failure != none
    Frame frame;          // as far as it was read
};

using SteadyTime = std::chrono::steady_clock::time_point;

// Fills `buf` from `fd` before `deadline`, with the adaptive ppoll slices
// described above. `message` explains a failure.
ReadFailure bounded_read_exact(int fd, mutable_byte_view buf, SteadyTime deadline, std::string& message);

// Reads one frame: header (common decode_frame_header), length check
// against max_reply_payload (invalid_data before allocating), payload,
// CRC check (common received_frame; a mismatch is invalid_data).
//
// Not the host's TlvAssembler, on purpose: the reply reader reads exactly
// one frame's bytes from the descriptor and treats an oversize length or a
// bad CRC as a broken stream (the caller drops the port), where the
// assembler buffers ahead, resynchronises past an oversize frame and
// delivers a bad-CRC frame. The 72-byte cap is this side's own: the host
// sends nothing else on the port.
ReadOutcome read_reply_frame(int fd, SteadyTime deadline);

}  // namespace ktstr::guest
