// The thread snapshot captures write their files on, so a capture (a copy
// of the whole SHM region) never holds up the host loop's thread. Jobs run
// one at a time in the order submitted. Internal to ktstr::host.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace ktstr::host {

class CaptureWorker {
public:
    using Job = std::function<void()>;

    CaptureWorker() = default;
    // Jobs not yet started are dropped; a running one finishes (its copy is
    // bounded by the SHM region's size); then the thread is joined.
    ~CaptureWorker();
    CaptureWorker(const CaptureWorker&) = delete;
    CaptureWorker& operator=(const CaptureWorker&) = delete;

    // Never blocks: the caller bounds how many jobs may be pending. The
    // thread starts with the first job (a run without captures has none).
    // Throws (std::system_error, std::bad_alloc) with nothing queued when
    // the thread or the queue entry cannot be had. A job must not throw.
    void submit(Job job);
    // Returns once every job submitted so far has run.
    void wait_idle();

private:
    void run(std::stop_token stop) noexcept;

    std::mutex mutex_;
    std::condition_variable_any changed_;
    std::deque<Job> jobs_;
    bool running_job_ = false;
    std::jthread thread_;  // last: joined before the members it uses go
};

}  // namespace ktstr::host
