#include "ktstr/host/bulk_channel.hpp"

#include <algorithm>
#include <new>

namespace ktstr::host {

BulkChannel::BulkChannel(BulkChannelConfig config, SendToGuest send_to_guest, std::function<void()> wake)
    : config_(config), send_to_guest_(std::move(send_to_guest)), wake_(std::move(wake)),
      assembler_(config.max_payload) {}

bool BulkChannel::hand_over(byte_view bytes) noexcept {
    if (bytes.empty())
        return true;
    bool need_wake = false;
    {
        std::lock_guard lock(mutex_);
        if (closed_ || bytes.size() > config_.backlog_limit - std::min(queued_bytes_, config_.backlog_limit)) {
            dropped_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
            dropped_chunks_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        // Small hand-overs are packed into 64 KiB chunks so the loop feeds
        // the assembler in large steps and the allocator runs once per
        // chunk, not once per virtqueue buffer. Everything that can throw
        // happens before the queue changes: a hand-over is queued whole
        // or not at all.
        Chunk* back = queue_.empty() ? nullptr : &queue_.back();
        const std::size_t head =
            back ? std::min(back->bytes.capacity() - back->bytes.size(), bytes.size()) : 0;
        try {
            if (head < bytes.size()) {
                Chunk chunk;
                chunk.bytes.reserve(std::max(chunk_size, bytes.size() - head));
                chunk.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(head), bytes.end());
                chunk.ends.reserve(16);
                chunk.ends.push_back(chunk.bytes.size());
                queue_.push_back(std::move(chunk));  // keeps references to other elements valid
            } else {
                if (back->ends.size() == back->ends.capacity())  // the only allocation on this path
                    back->ends.reserve(2 * back->ends.capacity() + 16);
            }
        } catch (const std::bad_alloc&) {
            dropped_chunks_.fetch_add(1, std::memory_order_relaxed);
            dropped_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
            return false;
        }
        if (head != 0) {  // within capacity: no allocation
            back->bytes.insert(back->bytes.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head));
            if (head == bytes.size())
                back->ends.push_back(back->bytes.size());  // reserved above
        }
        queued_bytes_ += bytes.size();
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
        wake_pending_ = false;
    }
    std::size_t frames = 0;
    // Hand-over by hand-over, taking frames out after each, so the
    // assembler holds at most one chunk plus an incomplete frame, not the
    // whole batch, and an oversize frame's drop ends where its hand-over
    // (the guest's write) ended.
    for (auto& chunk : batch) {
        const byte_view all(chunk.bytes);
        std::size_t from = 0;
        auto feed_until = [&](std::size_t to) {
            assembler_.feed(all.subspan(from, to - from));
            from = to;
            while (auto frame = assembler_.next()) {
                ++frames;
                on_frame(std::move(*frame));
            }
        };
        for (const std::size_t end : chunk.ends)
            feed_until(end);
        if (from < all.size())
            feed_until(all.size());  // a hand-over that goes on in the next chunk
        byte_buffer().swap(chunk.bytes);
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

}  // namespace ktstr::host
