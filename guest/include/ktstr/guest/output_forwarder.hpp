// Forwards a child's stdout or stderr: reads its pipe in chunks of at
// most chunk_size and sends each chunk as a Stdout / Stderr frame, and echoes
// it to a descriptor (the console) if one is given. Runs on its own
// thread from construction until end of file or finish().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::guest {

enum class OutputStream { stdout_stream, stderr_stream };

class OutputForwarder {
public:
    // A whole frame (16-byte header + chunk) is 32 KiB: the most the
    // kernel's virtio_console takes in one write, so one buffer and one
    // host notification per chunk. Each notification is a VM exit; 4 KiB
    // chunks cost eight times as many.
    static constexpr std::size_t chunk_size = 32 * 1024 - 16;

    struct Options {
        OutputStream stream = OutputStream::stdout_stream;
        int echo_fd = -1;         // -1: no echo. Not owned.
        bool send_frames = true;  // false: echo only (no bulk port)
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
    std::thread thread_;
};

}  // namespace ktstr::guest
