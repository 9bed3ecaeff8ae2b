#include "ktstr/host/bulk_channel.hpp"

#include <algorithm>
#include <cstdint>
#include <new>

namespace ktstr::host {

BulkChannel::BulkChannel(BulkChannelConfig config, SendToGuest send_to_guest, std::function<void()> wake)
    : config_(config), send_to_guest_(std::move(send_to_guest)), wake_(std::move(wake)),
      assembler_(config.max_payload) {
    spare_.reserve(spare_chunks_max);
}

bool BulkChannel::joins_last_run(const Chunk& c, std::size_t size) noexcept {
    return !c.runs.empty() && c.runs.back().size == size && c.runs.back().count != UINT32_MAX;
}

bool BulkChannel::extend_runs(Chunk& c, std::size_t size) noexcept {
    // What chunk_overhead stands for: the Chunk and two heap block headers.
    static_assert(sizeof(Chunk) + 2 * 16 <= chunk_overhead);
    if (joins_last_run(c, size)) {
        ++c.runs.back().count;
        return true;
    }
    if (c.runs.size() == c.runs.capacity())
        return false;
    c.runs.push_back({static_cast<std::uint32_t>(size), 1});  // within capacity: cannot throw
    return true;
}

bool BulkChannel::hand_over(byte_view bytes) noexcept {
    if (bytes.empty())
        return true;
    bool need_wake = false;
    {
        std::lock_guard lock(mutex_);
        auto refuse = [&] {
            dropped_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
            dropped_chunks_.fetch_add(1, std::memory_order_relaxed);
            return false;
        };
        if (closed_)
            return refuse();
        // Small hand-overs are packed into 64 KiB chunks so the loop feeds
        // the assembler in large steps and the allocator runs once per
        // chunk, not once per virtqueue buffer. `head` goes into the last
        // chunk's room (only a chunk of the packing size takes more: a
        // larger one holds one big hand-over), `rest` into a new chunk.
        Chunk* back = queue_.empty() ? nullptr : &queue_.back();
        const std::size_t room =
            back && back->bytes.capacity() <= chunk_size ? back->bytes.capacity() - back->bytes.size() : 0;
        const std::size_t head = std::min(room, bytes.size());
        const std::size_t rest = bytes.size() - head;
        // The cost, known before anything changes: the bytes, a new run
        // record if `head` does not extend the last chunk's last run and
        // there is no room for one (the records double), a new chunk.
        const bool grow_back =
            head != 0 && !joins_last_run(*back, head) && back->runs.size() == back->runs.capacity();
        const std::size_t back_growth = grow_back ? back->runs.capacity() * sizeof(Run) : 0;
        const std::size_t new_chunk = rest != 0 ? chunk_overhead + initial_runs * sizeof(Run) : 0;
        const std::size_t cost = bytes.size() + back_growth + new_chunk;
        if (cost > config_.backlog_limit - std::min(queued_cost_, config_.backlog_limit))
            return refuse();
        // Everything that can throw happens before the queue's contents
        // change: a hand-over is queued whole or not at all.
        try {
            if (grow_back) {
                const std::size_t before = back->runs.capacity();
                back->runs.reserve(2 * before);
                queued_cost_ += (back->runs.capacity() - before) * sizeof(Run);  // held even if refused below
            }
            if (rest != 0) {
                Chunk chunk;
                if (rest <= chunk_size && !spare_.empty()) {
                    chunk.bytes = std::move(spare_.back());  // empty, capacity chunk_size
                    spare_.pop_back();
                } else {
                    chunk.bytes.reserve(std::max(chunk_size, rest));
                }
                chunk.runs.reserve(initial_runs);
                chunk.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(head), bytes.end());
                // Pieces of at most 4 GiB: at most two records, both reserved.
                for (std::size_t left = rest; left != 0;) {
                    const std::size_t piece = std::min<std::size_t>(left, UINT32_MAX);
                    extend_runs(chunk, piece);
                    left -= piece;
                }
                queue_.push_back(std::move(chunk));  // keeps references to other elements valid
                queued_cost_ += new_chunk;
            }
        } catch (const std::bad_alloc&) {
            return refuse();
        }
        if (head != 0) {  // within capacity: no allocation
            back->bytes.insert(back->bytes.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head));
            extend_runs(*back, head);  // room made above
        }
        queued_bytes_ += bytes.size();
        queued_cost_ += bytes.size();
        received_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
        need_wake = !wake_pending_;
        wake_pending_ = true;
    }
    if (need_wake && wake_) {
        try {
            wake_();
        } catch (...) {
            // The bytes are queued; the next pump (or the final one) takes them.
        }
    }
    return true;
}

void BulkChannel::close() noexcept {
    std::lock_guard lock(mutex_);
    closed_ = true;
}

std::size_t BulkChannel::pump(const std::function<void(Frame&&)>& on_frame) {
    std::deque<Chunk> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(queue_);
        queued_bytes_ = 0;
        queued_cost_ = 0;
        wake_pending_ = false;
    }
    std::size_t frames = 0;
    std::vector<byte_buffer> spares;
    spares.reserve(spare_chunks_max);
    // Hand-over by hand-over, taking frames out after each, so the
    // assembler holds at most one chunk plus an incomplete frame, not the
    // whole batch, and an oversize frame's drop ends where its hand-over
    // (the guest's write) ended.
    for (auto& chunk : batch) {
        const byte_view all(chunk.bytes);
        std::size_t from = 0;
        for (const Run& run : chunk.runs) {
            for (std::uint32_t i = 0; i < run.count; ++i) {
                // Frames inside the hand-over are parsed where they lie.
                frames += assembler_.consume(all.subspan(from, run.size), on_frame);
                from += run.size;
            }
        }
        if (chunk.bytes.capacity() == chunk_size && spares.size() < spare_chunks_max) {
            chunk.bytes.clear();
            spares.push_back(std::move(chunk.bytes));  // within capacity: cannot throw
        } else {
            byte_buffer().swap(chunk.bytes);
        }
        std::vector<Run>().swap(chunk.runs);
    }
    if (!spares.empty()) {
        std::lock_guard lock(mutex_);
        for (auto& b : spares) {
            if (spare_.size() == spare_chunks_max)
                break;
            spare_.push_back(std::move(b));  // reserved: cannot throw
        }
    }
    return frames;
}

bool BulkChannel::send(byte_view bytes) {
    if (!send_to_guest_) {
        send_refused_bytes_ += bytes.size();
        return false;
    }
    const auto accepted = std::min(send_to_guest_(bytes), bytes.size());
    sent_bytes_ += accepted;
    send_refused_bytes_ += bytes.size() - accepted;
    return accepted == bytes.size();
}

BulkChannelStats BulkChannel::stats() const {
    BulkChannelStats s;
    s.assembler = assembler_.stats();
    s.received_bytes = received_bytes_.load(std::memory_order_relaxed);
    s.handover_dropped_bytes = dropped_bytes_.load(std::memory_order_relaxed);
    s.handover_dropped_chunks = dropped_chunks_.load(std::memory_order_relaxed);
    s.trailing_bytes = assembler_.buffered();
    s.sent_bytes = sent_bytes_;
    s.send_refused_bytes = send_refused_bytes_;
    return s;
}

std::size_t BulkChannel::backlog_bytes() const {
    std::lock_guard lock(mutex_);
    return queued_bytes_;
}

std::size_t BulkChannel::backlog_cost() const {
    std::lock_guard lock(mutex_);
    return queued_cost_;
}

}  // namespace ktstr::host
