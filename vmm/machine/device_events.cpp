#include "machine/device_events.hpp"

#include <cerrno>

#include <poll.h>
#include <pthread.h>

namespace ktstr::vmm::machine {

DeviceEvents::DeviceEvents(std::vector<DeviceEventSource> sources)
    : sources_(std::move(sources)), stop_event_(kvm::EventFd::create()), thread_([this] { loop(); }) {}

void DeviceEvents::stop() noexcept {
    if (!thread_.joinable())
        return;
    stop_event_.signal();
    thread_.join();
}

void DeviceEvents::loop() {
    ::pthread_setname_np(::pthread_self(), "devices");
    std::vector<pollfd> fds;
    fds.push_back({stop_event_.fd(), POLLIN, 0});
    for (const auto& s : sources_)
        fds.push_back({s.event->fd(), POLLIN, 0});
    for (;;) {
        const int n = ::poll(fds.data(), fds.size(), -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;  // cannot happen with valid fds; the VM's stop path still drains the queues
        }
        if (fds[0].revents != 0)
            return;
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (fds[i].revents == 0)
                continue;
            sources_[i - 1].event->consume();
            sources_[i - 1].handler();
        }
    }
}

}  // namespace ktstr::vmm::machine
