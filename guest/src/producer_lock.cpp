#include "ktstr/guest/producer_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "warning.hpp"

namespace ktstr::guest {
namespace {

// Locks (or unlocks) byte 0 of the lock file with a process-owned record lock.
int record_lock(int fd, short type, bool wait) noexcept {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    for (;;) {
        int r = ::fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
        if (r == 0 || errno != EINTR)
            return r;
    }
}

}  // namespace

bool ProducerLock::file_ready() const noexcept {
    return fd_ && pid_ == ::getpid() && generation_ == paths_generation();
}

void ProducerLock::ensure_file_locked_held() {
    if (file_ready())
        return;
    // A forked child or new paths: this descriptor's lock is not ours.
    fd_.reset();
    pid_ = ::getpid();
    generation_ = paths_generation();
    const std::string path = paths().*which_;
    fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_ && !warned_) {
        warned_ = true;
        warn("cannot open lock file " + path + ": " + std::strerror(errno) +
             "; producers of other processes are not serialised");
    }
}

void ProducerLock::prepare() {
    std::lock_guard lk(mutex_);
    ensure_file_locked_held();
}

void ProducerLock::lock() {
    mutex_.lock();
    ensure_file_locked_held();
    file_locked_ = fd_ && record_lock(fd_.get(), F_WRLCK, true) == 0;
}

bool ProducerLock::try_lock() noexcept {
    if (!mutex_.try_lock())
        return false;
    file_locked_ = false;
    if (file_ready()) {
        if (record_lock(fd_.get(), F_WRLCK, false) != 0) {
            mutex_.unlock();
            return false;  // another process is writing
        }
        file_locked_ = true;
    }
    return true;
}

void ProducerLock::unlock() noexcept {
    if (file_locked_)
        record_lock(fd_.get(), F_UNLCK, false);
    file_locked_ = false;
    mutex_.unlock();
}

}  // namespace ktstr::guest
