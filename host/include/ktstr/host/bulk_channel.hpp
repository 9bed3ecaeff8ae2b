// The host end of the bulk port (virtio-console port 1, "ktstr-bulk").
//
// Guest -> host: the console device's transmit sink calls hand_over() on a
// vCPU or device thread, with the device locked. hand_over() never blocks
// for long: it copies the bytes into a queue under a mutex that the loop
// thread holds only to swap the queue out, and asks the loop to pump (the
// `wake` callback, called at most once per batch). pump(), on the loop
// thread, feeds the queued bytes in order to the common TLV assembler and
// hands each complete frame to `on_frame`.
//
// The queue is bounded by what it costs in memory, not by payload bytes
// alone (BulkChannelConfig::backlog_limit, see backlog_cost()): the device
// hands over one virtqueue buffer at a time and a guest may use 1-byte
// buffers, so a hand-over's bookkeeping must count too (counting payload
// bytes only, 64 MiB of 1-byte hand-overs took 583 MiB). Hand-overs are
// packed into 64 KiB chunks, and consecutive hand-overs of one size share
// one 8-byte record of where they end, so that case costs about its bytes.
// The device cannot be told "not consumed" (its sink returns nothing), so
// a hand-over that would push the cost past the bound is refused whole and
// counted (handover_dropped_*); the assembler then resynchronises as its
// rules say. The bound is sized so a loop that is merely busy never hits
// it: it protects the host from a stalled loop (e.g. a blocked stdout),
// not from ordinary bursts.
//
// Host -> guest: send() passes bytes to the device's receive side through
// the VMM's `send_to_guest` (VirtioConsole::queue_receive on port 1), on
// the loop thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "ktstr/common/bytes.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/tlv_assembler.hpp"

namespace ktstr::host {

// Gives bytes to the guest's receive side; returns how many it accepted
// (fewer than offered when the device's receive buffer is full).
using SendToGuest = std::function<std::size_t(byte_view)>;

struct BulkChannelConfig {
    std::size_t backlog_limit = std::size_t{64} << 20;   // backlog_cost() queued between device and loop
    std::uint32_t max_payload = max_bulk_frame_payload;  // the assembler's cap
};

struct BulkChannelStats {
    AssemblerStats assembler;
    std::uint64_t received_bytes = 0;           // accepted by hand_over
    std::uint64_t handover_dropped_bytes = 0;   // refused: backlog full, closed, or no memory
    std::uint64_t handover_dropped_chunks = 0;
    std::uint64_t trailing_bytes = 0;           // held by the assembler, not a complete frame
    std::uint64_t sent_bytes = 0;               // accepted by send_to_guest
    std::uint64_t send_refused_bytes = 0;       // offered but not accepted
};

class BulkChannel {
public:
    // `wake` must be cheap and must not call back into the channel (the
    // host loop posts pump() onto its io_context). Either callback may be
    // empty: no wake (the owner pumps on its own), no way to send.
    BulkChannel(BulkChannelConfig config, SendToGuest send_to_guest, std::function<void()> wake);

    // --- any thread (the device's sink) ---
    // Queues a copy of `bytes`. false: refused whole and counted.
    bool hand_over(byte_view bytes) noexcept;
    // Refuses every later hand_over (after the vCPUs stopped).
    void close() noexcept;

    // --- the loop thread ---
    // Feeds everything queued so far to the assembler, in order, calling
    // `on_frame` for each complete frame. Returns the number of frames.
    std::size_t pump(const std::function<void(Frame&&)>& on_frame);
    // true when send_to_guest accepted every byte.
    bool send(byte_view bytes);

    // Assembler and send counters are the loop thread's: read them there or
    // after it stopped. The hand-over counters are safe from any thread.
    BulkChannelStats stats() const;
    // Payload bytes queued (handed over, not yet pumped).
    std::size_t backlog_bytes() const;
    // What the queue costs, the quantity backlog_limit bounds: the payload
    // bytes, chunk_overhead per 64 KiB chunk and 8 bytes per record of
    // where hand-overs end (one per run of same-size hand-overs), counted
    // by capacity. The memory really held is at most this plus one chunk's
    // unused room (64 KiB) and the spare chunks (spare_chunks_max, at most
    // what the backlog held before).
    std::size_t backlog_cost() const;

    // Charged per queued chunk: the Chunk in the deque and its two heap
    // blocks' headers, rounded up.
    static constexpr std::size_t chunk_overhead = 128;

private:
    static constexpr std::size_t chunk_size = 64 * 1024;

    const BulkChannelConfig config_;
    const SendToGuest send_to_guest_;
    const std::function<void()> wake_;

    // Hand-overs packed into one allocation, with where each one ended:
    // the assembler is fed one hand-over at a time, so that an oversize
    // frame (which drops everything buffered with it) cannot take a frame
    // the guest wrote separately, merely packed behind it, down too.
    // `runs` covers `bytes` exactly, in order: `count` consecutive pieces
    // of `size` bytes, each a hand-over or the part of one that lies in
    // this chunk (a hand-over may go on in the next chunk).
    struct Run {
        std::uint32_t size;
        std::uint32_t count;
    };
    struct Chunk {
        byte_buffer bytes;
        std::vector<Run> runs;
    };
    static constexpr std::size_t initial_runs = 4;
    // Emptied chunk buffers (capacity chunk_size) the pump hands back for
    // the next hand-overs. Freed instead, a backlog of megabytes went back
    // to the system and the next hand-overs faulted fresh pages in (with
    // their zeroing): in the in-process benchmark (bench/bulk_path_bench.cpp)
    // 1.2 to 2 page faults per 64 KiB write, and the path's CPU cost per
    // byte 2.5 to 3 times what it is with the spares. They never raise the
    // peak: a spare is memory the backlog held a moment before. At most
    // this many (16 MiB).
    static constexpr std::size_t spare_chunks_max = 256;

    static bool joins_last_run(const Chunk& c, std::size_t size) noexcept;
    // Adds a piece of `size` bytes to c.runs within its capacity; false
    // when that needs a new entry and there is no room for one.
    static bool extend_runs(Chunk& c, std::size_t size) noexcept;

    mutable std::mutex mutex_;
    std::deque<Chunk> queue_;        // guarded; chunks of up to chunk_size (or one larger hand-over)
    std::vector<byte_buffer> spare_; // guarded; empty, capacity chunk_size; reserved for spare_chunks_max
    std::size_t queued_bytes_ = 0;   // guarded
    std::size_t queued_cost_ = 0;    // guarded: backlog_cost()
    bool wake_pending_ = false;      // guarded: a pump is already asked for
    bool closed_ = false;            // guarded

    std::atomic<std::uint64_t> received_bytes_{0};
    std::atomic<std::uint64_t> dropped_bytes_{0};
    std::atomic<std::uint64_t> dropped_chunks_{0};

    TlvAssembler assembler_;  // loop thread only
    std::uint64_t sent_bytes_ = 0;
    std::uint64_t send_refused_bytes_ = 0;
};

}  // namespace ktstr::host
