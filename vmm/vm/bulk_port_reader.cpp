#include "vm/bulk_port_reader.hpp"

#include <cerrno>

#include <pthread.h>
#include <unistd.h>

#include <ktstr/common/msg_type.hpp>
#include <ktstr/common/payloads.hpp>

namespace ktstr::vmm::vm {
namespace {

void write_all(int fd, byte_view bytes) noexcept {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;  // the reader went away: drop the rest, keep the run going
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

}  // namespace

BulkPortReader::BulkPortReader(int stdout_fd, int stderr_fd)
    : stdout_fd_(stdout_fd), stderr_fd_(stderr_fd), thread_([this](std::stop_token t) { loop(std::move(t)); }) {}

void BulkPortReader::push(byte_view bytes) {
    {
        std::lock_guard lock(mutex_);
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    }
    cv_.notify_one();
}

void BulkPortReader::loop(std::stop_token token) {
    ::pthread_setname_np(::pthread_self(), "bulk-port");
    byte_buffer work;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, token, [&] { return !pending_.empty(); });
            if (pending_.empty())
                return;  // stop requested and nothing left
            work.swap(pending_);
        }
        process(work);
        work.clear();
    }
}

void BulkPortReader::process(byte_view bytes) {
    assembler_.feed(bytes);
    while (auto frame = assembler_.next()) {
        ++result_.per_type[frame->msg_type()];
        if (!frame->crc_ok)
            continue;  // counted in the assembler's stats; never acted on
        switch (static_cast<MsgType>(frame->msg_type())) {
        case MsgType::Stdout:
            write_all(stdout_fd_, frame->payload);
            break;
        case MsgType::Stderr:
            write_all(stderr_fd_, frame->payload);
            break;
        case MsgType::Exit:
            if (auto v = decode_i32(frame->payload))
                result_.exit_code = *v;
            break;
        case MsgType::ExecExit:
            if (auto v = decode_i32(frame->payload))
                result_.exec_exit_code = *v;
            break;
        default:
            break;
        }
    }
}

BulkPortResult BulkPortReader::finish() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
        // Whatever was pushed after the thread's last pass.
        byte_buffer rest;
        {
            std::lock_guard lock(mutex_);
            rest.swap(pending_);
        }
        if (!rest.empty())
            process(rest);
        const auto& s = assembler_.stats();
        result_.frames = s.frames;
        result_.crc_errors = s.crc_errors;
        result_.dropped_bytes = s.dropped_bytes;
    }
    return result_;
}

}  // namespace ktstr::vmm::vm
