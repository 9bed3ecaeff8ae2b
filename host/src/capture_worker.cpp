#include "capture_worker.hpp"

#include <csignal>

#include <pthread.h>

namespace ktstr::host {

CaptureWorker::~CaptureWorker() {
    if (!thread_.joinable())
        return;
    thread_.request_stop();
    changed_.notify_all();
    thread_.join();
}

void CaptureWorker::submit(Job job) {
    {
        std::lock_guard lock(mutex_);
        // Either may throw (no thread to be had, no memory): then nothing
        // was queued, and wait_idle() cannot wait for a job no thread runs.
        if (!thread_.joinable())
            thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
        jobs_.push_back(std::move(job));
    }
    changed_.notify_all();
}

void CaptureWorker::wait_idle() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return jobs_.empty() && !running_job_; });
}

void CaptureWorker::run(std::stop_token stop) noexcept {
    // Signals belong to the VMM's main thread.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, stop, [this] { return !jobs_.empty(); });
        if (stop.stop_requested())
            return;
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        running_job_ = true;
        lock.unlock();
        job();
        lock.lock();
        running_job_ = false;
        changed_.notify_all();
    }
}

}  // namespace ktstr::host
