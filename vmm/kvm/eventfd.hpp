// An eventfd: the counter KVM signals for an ioeventfd and reads for an
// irqfd, and that threads use to wake each other. Closed with its owner.
#pragma once

#include <cstdint>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::kvm {

class EventFd {
public:
    // A non-blocking, close-on-exec eventfd with count 0. Throws KvmError.
    static EventFd create();

    // Adds 1 to the counter (wakes a poller). Never blocks; a counter at
    // its maximum stays signalled, which is all a waker needs.
    void signal() const noexcept;
    // Reads and clears the counter; 0 when it was not signalled.
    std::uint64_t consume() const noexcept;

    int fd() const noexcept { return fd_.get(); }

private:
    explicit EventFd(UniqueFd fd) noexcept : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace ktstr::vmm::kvm
