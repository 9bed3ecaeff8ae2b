// Forwards a child's output: reads its pipe in chunks of at most
// chunk_size and sends each chunk as a frame of the stream's type (Stdout,
// Stderr, or SchedLog for a scheduler's stdout and stderr together),
// echoes it to a descriptor (the console) if one is given, and keeps the
// last bytes for reports if asked. Runs on its own thread from
// construction until end of file or finish().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "ktstr/common/unique_fd.hpp"
#include "ktstr/guest/senders.hpp"
#include "ktstr/guest/tail_buffer.hpp"

namespace ktstr::guest {

enum class OutputStream {
    stdout_stream,  // Stdout frames
    stderr_stream,  // Stderr frames
    sched_log,      // SchedLog frames
};

class OutputForwarder {
public:
    // One 32 KiB frame per virtio_console write (senders.hpp says why).
    static constexpr std::size_t chunk_size = stream_chunk_size;

    struct Options {
        OutputStream stream = OutputStream::stdout_stream;
        int echo_fd = -1;         // -1: no echo. Not owned.
        bool send_frames = true;  // false: echo only (no bulk port)
        std::size_t keep_tail = 0;  // bytes of the latest output kept for tail(); 0: none
    };

    struct Stats {
        std::uint64_t bytes = 0;
        std::uint64_t chunks = 0;
        std::uint64_t chunks_not_sent = 0;  // send_frames set but the frame was not written
    };

    OutputForwarder(UniqueFd source, Options options);
    OutputForwarder(const OutputForwarder&) = delete;
    OutputForwarder& operator=(const OutputForwarder&) = delete;
    ~OutputForwarder();  // finish(0)

    // Waits up to `grace` for end of file (every writer closed the pipe),
    // then stops reading and joins. Returns true if end of file was seen.
    bool finish(std::chrono::milliseconds grace);

    Stats stats() const;
    // The last Options::keep_tail bytes forwarded so far (all of them once
    // finish() returned).
    std::string tail() const;

private:
    void run();

    UniqueFd source_;
    UniqueFd wake_read_;
    UniqueFd wake_write_;
    Options options_;
    mutable std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    bool eof_ = false;
    Stats stats_;
    TailBuffer tail_;
    std::thread thread_;
};

}  // namespace ktstr::guest
