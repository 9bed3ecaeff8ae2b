#include "ktstr/guest/control_poller.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "ktstr/guest/paths.hpp"
#include "ktstr/guest/shm_writer.hpp"
#include "ktstr/common/unique_fd.hpp"
#include "warning.hpp"

namespace ktstr::guest {
namespace {

void create_stall_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!fd)
        warn("stall request: cannot create " + path + ": " + std::strerror(errno));
}

}  // namespace

ControlEvents poll_control_once(SharedRegion region, const KernelLogLimits& dump_limits) {
    ControlEvents ev;
    if (ring_load_control(region, shm::dump_req_offset) == shm::dump_req_sysrq_d) {
        // Opened before the trigger: everything the dump logs comes after.
        auto log = KernelLog::open_at_end();
        auto trace = DumpTrace::open();
        trigger_sysrq_dump();
        // Cleared before the collection, which takes a while, and even if
        // the dump failed, or the next pass would retry forever.
        ring_store_control(region, shm::dump_req_offset, 0);
        const auto text = collect_dump_trace(trace, dump_limits.max_bytes) + collect_kernel_log(log, dump_limits);
        send_dmesg_text(text);
        ev.dump = true;
        ev.dump_bytes = text.size();
    }
    if (ring_load_control(region, shm::stall_req_offset) == shm::stall_req_activate) {
        create_stall_file(paths().stall_file);
        ring_store_control(region, shm::stall_req_offset, 0);
        ev.stall = true;
    }
    ev.shutdown = ring_read_signal(region, 0) == shm::signal_shutdown_req;
    return ev;
}

ControlPoller::ControlPoller(std::shared_ptr<ShmWriter> writer, std::chrono::milliseconds interval,
                             std::function<void()> on_shutdown)
    : writer_(std::move(writer)), interval_(interval), on_shutdown_(std::move(on_shutdown)) {
    thread_ = std::thread([this] { run(); });
}

ControlPoller::~ControlPoller() { stop(); }

void ControlPoller::stop() {
    {
        std::lock_guard lk(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void ControlPoller::run() {
    std::unique_lock lk(mutex_);
    while (!stopping_) {
        lk.unlock();
        auto ev = poll_control_once(writer_->region());
        if (ev.dump)
            dumps_.fetch_add(1);
        if (ev.stall)
            stalls_.fetch_add(1);
        if (ev.shutdown) {
            shutdown_.store(true);
            if (on_shutdown_)
                on_shutdown_();
            return;  // as ktstr: a shutdown request ends the polling
        }
        lk.lock();
        wake_.wait_for(lk, interval_, [this] { return stopping_; });
    }
}

}  // namespace ktstr::guest
