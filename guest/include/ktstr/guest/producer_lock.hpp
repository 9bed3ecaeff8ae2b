// The lock every producer of a shared channel takes: a mutex for the
// threads of this process plus a POSIX record lock on a lock file for the
// other processes of the guest (ktstr-init and the command it runs write
// to the same bulk port and ring).
//
// POSIX record locks belong to a process, so a forked child never
// inherits a lock it did not take. A lock file that cannot be opened (no
// writable /tmp yet) degrades to the mutex alone, with one warning.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "ktstr/guest/paths.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::guest {

class ProducerLock {
public:
    // `which` selects the lock file among paths().
    explicit ProducerLock(std::string Paths::*which) noexcept : which_(which) {}
    ProducerLock(const ProducerLock&) = delete;
    ProducerLock& operator=(const ProducerLock&) = delete;

    // BasicLockable, so std::lock_guard / std::unique_lock work.
    void lock();
    void unlock() noexcept;
    // Never blocks; async-signal-tolerant: it opens no file, so call
    // prepare() first if a crash path will use it.
    bool try_lock() noexcept;

    // Opens the lock file now (crash hooks call this up front).
    void prepare();

private:
    void ensure_file_locked_held();  // mutex_ held
    bool file_ready() const noexcept;

    std::mutex mutex_;
    std::string Paths::*which_;
    UniqueFd fd_;
    pid_t pid_ = 0;
    std::uint64_t generation_ = ~std::uint64_t{0};
    bool warned_ = false;
    bool file_locked_ = false;
};

}  // namespace ktstr::guest
