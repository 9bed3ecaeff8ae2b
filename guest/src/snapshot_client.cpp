#include "ktstr/guest/snapshot_client.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "ktstr/common/crc32.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/guest/bulk_port.hpp"
#include "ktstr/guest/kernel_cmdline.hpp"
#include "ktstr/guest/producer_lock.hpp"
#include "warning.hpp"

namespace ktstr::guest {
namespace {

using namespace std::chrono_literals;

// The first polls are short: the host usually has the reply queued by
// the time the guest waits; then 5 ms slices bound the wake-up cost.
constexpr int fast_poll_slices = 4;
constexpr auto fast_poll_slice = std::chrono::microseconds(100);
constexpr auto slow_poll_slice = std::chrono::milliseconds(5);

std::atomic<std::uint32_t> g_next_request_id{1};
std::mutex g_request_mutex;
ProducerLock g_request_lock{&Paths::snapshot_lock};

std::uint32_t next_request_id() noexcept {
    // 0 is what a zeroed reply carries; never use it.
    auto id = g_next_request_id.fetch_add(1, std::memory_order_acq_rel);
    if (id == 0)
        id = g_next_request_id.fetch_add(1, std::memory_order_acq_rel);
    return id;
}

std::string describe(std::uint32_t request_id, std::uint32_t kind) {
    return "(request_id=" + std::to_string(request_id) + ", kind=" + std::to_string(kind) + ")";
}

SnapshotResult transport_error(std::string reason, std::uint32_t id) {
    return {SnapshotResult::Status::transport_error, std::move(reason), id};
}

}  // namespace

const char* to_string(SnapshotResult::Status s) noexcept {
    switch (s) {
    case SnapshotResult::Status::ok: return "ok";
    case SnapshotResult::Status::host_error: return "host-error";
    case SnapshotResult::Status::transport_error: return "transport-error";
    }
    return "unknown";
}

ReadFailure bounded_read_exact(int fd, mutable_byte_view buf, SteadyTime deadline, std::string& message) {
    std::size_t filled = 0;
    int slices = 0;
    while (filled < buf.size()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            message = "deadline passed after " + std::to_string(filled) + " of " + std::to_string(buf.size()) +
                      " bytes";
            return ReadFailure::timed_out;
        }
        const std::chrono::nanoseconds interval = slices < fast_poll_slices
                                                      ? std::chrono::nanoseconds(fast_poll_slice)
                                                      : std::chrono::nanoseconds(slow_poll_slice);
        const auto slice = std::min<std::chrono::nanoseconds>(interval, deadline - now);
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(slice.count() / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(slice.count() % 1'000'000'000);
        pollfd pfd{fd, POLLIN, 0};
        int pr = ::ppoll(&pfd, 1, &ts, nullptr);
        if (slices < fast_poll_slices)
            ++slices;
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            message = std::string("ppoll: ") + std::strerror(errno);
            return ReadFailure::io_error;
        }
        if (pr == 0)
            continue;  // slice over; the deadline is checked at the top
        ssize_t r = ::read(fd, buf.data() + filled, buf.size() - filled);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            message = std::string("read: ") + std::strerror(errno);
            return ReadFailure::io_error;
        }
        if (r == 0) {
            message = "end of file after " + std::to_string(filled) + " of " + std::to_string(buf.size()) + " bytes";
            return ReadFailure::end_of_file;
        }
        filled += static_cast<std::size_t>(r);
    }
    return ReadFailure::none;
}

ReadOutcome read_reply_frame(int fd, SteadyTime deadline) {
    ReadOutcome out;
    std::array<std::uint8_t, frame_header_size> hb{};
    out.failure = bounded_read_exact(fd, hb, deadline, out.message);
    if (out.failure != ReadFailure::none) {
        out.message = "frame header: " + out.message;
        return out;
    }
    const auto h = decode_frame_header(hb);
    // Judge the length before allocating: a hostile host could announce
    // 4 GiB and make the guest's allocation fail.
    if (h.length > max_reply_payload) {
        out.failure = ReadFailure::invalid_data;
        out.message = "frame length " + std::to_string(h.length) + " exceeds max payload " +
                      std::to_string(max_reply_payload) + " of the port's receive side";
        return out;
    }
    byte_buffer payload(h.length);
    if (h.length != 0) {
        out.failure = bounded_read_exact(fd, payload, deadline, out.message);
        if (out.failure != ReadFailure::none) {
            out.frame.header = h;
            out.frame.payload = std::move(payload);
            out.message = "frame payload: " + out.message;
            return out;
        }
    }
    out.frame = received_frame(h, std::move(payload));
    if (!out.frame.crc_ok) {
        // Computed again only to say what it was: at most 72 bytes, once
        // per broken stream.
        char buf[96];
        std::snprintf(buf, sizeof buf, "frame CRC mismatch: header 0x%08x, computed 0x%08x, length %u", h.crc32,
                      crc32(out.frame.payload), h.length);
        out.failure = ReadFailure::invalid_data;
        out.message = buf;
    }
    return out;
}

SnapshotResult request_snapshot(std::uint32_t kind, std::string_view tag, std::chrono::milliseconds timeout) {
    if (!is_guest())
        return transport_error("request_snapshot called outside a ktstr guest (the bulk port exists only "
                               "inside one)",
                               0);
    std::lock_guard in_process(g_request_mutex);
    std::lock_guard in_guest(g_request_lock);

    const auto id = next_request_id();
    SnapshotRequestPayload rq;
    rq.request_id = id;
    rq.kind = kind;
    rq.tag = make_padded_text(tag);
    auto& port = BulkPort::instance();
    if (!port.write_frame(to_u32(MsgType::SnapshotRequest), encode(rq)))
        return transport_error("could not write the snapshot request to the bulk port " + describe(id, kind), id);

    // Replies come back on the same descriptor (the port opens once).
    auto h = port.handle();
    if (!h)
        return transport_error("bulk port not open " + describe(id, kind), id);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto rd = read_reply_frame(h->fd(), deadline);
        if (rd.failure == ReadFailure::timed_out)
            return transport_error("no matching snapshot reply within " + std::to_string(timeout.count()) + " ms " +
                                       describe(id, kind) + ": " + rd.message,
                                   id);
        if (rd.failure != ReadFailure::none) {
            // The stream is out of step or broken: start over with a
            // fresh open on the next use.
            port.drop(h);
            return transport_error("snapshot reply read failed " + describe(id, kind) + ": " + rd.message, id);
        }
        if (rd.frame.msg_type() != to_u32(MsgType::SnapshotReply)) {
            warn("snapshot client: ignoring a " + tag_of(rd.frame.msg_type()) + " frame on the port's receive side");
            continue;
        }
        auto reply = decode_snapshot_reply(rd.frame.payload);
        if (!reply) {
            warn("snapshot client: ignoring a reply of " + std::to_string(rd.frame.payload.size()) +
                 " bytes (want 72)");
            continue;
        }
        if (reply->request_id != id) {
            warn("snapshot client: ignoring a stale reply for request " + std::to_string(reply->request_id) +
                 " while waiting for " + std::to_string(id));
            continue;
        }
        switch (reply->status) {
        case static_cast<std::uint32_t>(SnapshotStatus::Ok):
            return {SnapshotResult::Status::ok, {}, id};
        case static_cast<std::uint32_t>(SnapshotStatus::Err):
            return {SnapshotResult::Status::host_error, padded_text(reply->reason), id};
        default:
            return transport_error("host replied with unknown status " + std::to_string(reply->status) +
                                       " (expected 1 OK or 2 ERR) " + describe(id, kind),
                                   id);
        }
    }
}

}  // namespace ktstr::guest
