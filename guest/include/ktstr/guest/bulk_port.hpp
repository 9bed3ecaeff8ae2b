// The guest end of the bulk channel: virtio-console port 1
// (/dev/vport0p1), carrying TLV frames to the host and snapshot replies
// back.
//
// Opening: lazily, read+write (the kernel allows one open of a port, so
// the same descriptor serves the snapshot reader), close-on-exec. Each
// call makes one open attempt; a missing port is not an error, the frame
// is just not sent (false), and the next call tries again. A process
// started by one that holds the port finds the inherited descriptor in
// the environment variable KTSTR_BULK_FD and uses it instead.
//
// Writing: header and payload in one write (copied together up to
// coalesce_limit bytes, a writev above), continued after partial writes
// and EINTR, under a ProducerLock shared by every producer of the
// process and of the guest, so frames never interleave. After a write
// error the handle is dropped and the next call reopens the port.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "ktstr/common/bytes.hpp"
#include "ktstr/guest/producer_lock.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::guest {

// An open port: owned (we opened it) or inherited (KTSTR_BULK_FD; never
// closed by us, since the fd number belongs to the whole process tree).
class PortHandle {
public:
    static std::shared_ptr<PortHandle> owned(UniqueFd fd);
    static std::shared_ptr<PortHandle> inherited(int fd);
    int fd() const noexcept { return fd_; }
    bool is_inherited() const noexcept { return !owned_; }

private:
    PortHandle(UniqueFd owned, int fd) noexcept : owned_(std::move(owned)), fd_(fd) {}
    UniqueFd owned_;
    int fd_;
};

class BulkPort {
public:
    // Frames up to this size are written with a single write(2).
    static constexpr std::size_t coalesce_limit = 64 * 1024;

    // The process-wide port on paths().bulk_port.
    static BulkPort& instance();

    BulkPort() = default;
    BulkPort(const BulkPort&) = delete;
    BulkPort& operator=(const BulkPort&) = delete;

    // Writes one frame. False when the port is not open (and cannot be
    // opened now), the payload is above max_bulk_frame_payload, or the
    // write failed. Does not check is_guest(); the senders do.
    bool write_frame(std::uint32_t msg_type, byte_view payload);

    // Writes bytes that are not necessarily a frame, under the same lock
    // (ktstr-selftest --garbage). Same failure rules as write_frame.
    bool write_raw(byte_view bytes);

    // The open port, opening it if needed; nullptr when it cannot be
    // opened now. The handle stays valid while held even if the port is
    // dropped meanwhile.
    std::shared_ptr<PortHandle> handle();

    // Drops `h` if it is still the current handle (after a read error).
    void drop(const std::shared_ptr<PortHandle>& h);

    // Tries to open the port every 10 ms until it opens or `budget`
    // passes. True when open.
    bool wait_until_open(std::chrono::milliseconds budget);

    // The descriptor a child should inherit, or -1 when the port is not
    // open.
    int fd_for_children();

private:
    std::shared_ptr<PortHandle> current_locked();  // state_mutex_ held
    bool write_parts(std::span<const byte_view> parts);

    std::mutex state_mutex_;  // guards handle_ and generation_
    std::shared_ptr<PortHandle> handle_;
    std::uint64_t generation_ = ~std::uint64_t{0};
    ProducerLock write_lock_{&Paths::bulk_lock};
};

}  // namespace ktstr::guest
