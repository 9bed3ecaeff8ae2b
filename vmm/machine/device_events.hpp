// The device thread: waits on the ioeventfds of the virtio queues and runs
// each one's handler (the transport's notify) when the guest kicked it, so
// queue work never runs on a vCPU thread. Stopping (also by the
// destructor) wakes the thread through an eventfd of its own and joins it.
#pragma once

#include <functional>
#include <thread>
#include <vector>

#include "kvm/eventfd.hpp"

namespace ktstr::vmm::machine {

struct DeviceEventSource {
    const kvm::EventFd* event;       // must outlive the thread
    std::function<void()> handler;   // runs on the device thread; must not throw
};

class DeviceEvents {
public:
    // Starts the thread. Throws KvmError when the stop eventfd cannot be
    // made.
    explicit DeviceEvents(std::vector<DeviceEventSource> sources);
    DeviceEvents(const DeviceEvents&) = delete;
    DeviceEvents& operator=(const DeviceEvents&) = delete;
    ~DeviceEvents() { stop(); }

    void stop() noexcept;

private:
    void loop();

    std::vector<DeviceEventSource> sources_;
    kvm::EventFd stop_event_;
    std::jthread thread_;  // last
};

}  // namespace ktstr::vmm::machine
