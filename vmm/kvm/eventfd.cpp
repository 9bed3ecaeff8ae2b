#include "kvm/eventfd.hpp"

#include <cerrno>

#include <sys/eventfd.h>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

EventFd EventFd::create() {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
        throw KvmError("eventfd", errno);
    return EventFd(UniqueFd(fd));
}

void EventFd::signal() const noexcept {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is saturated: still signalled.
    [[maybe_unused]] const auto n = ::write(fd_.get(), &one, sizeof one);
}

std::uint64_t EventFd::consume() const noexcept {
    std::uint64_t v = 0;
    if (::read(fd_.get(), &v, sizeof v) != static_cast<ssize_t>(sizeof v))
        return 0;
    return v;
}

}  // namespace ktstr::vmm::kvm
