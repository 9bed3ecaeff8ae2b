// A multiport virtio-console (virtio 1.2 §5.3), as Linux's
// drivers/char/virtio_console.c drives it.
//
// Ports: 0 is the console (hvc0); each further port carries a name the
// guest shows in sysfs, by default 1 "ktstr-bulk" (/dev/vport0p1) and
// 2 "ktstr-stats". Queues: 0/1 receive/transmit of port 0, 2/3 control
// receive/transmit, then 4/5 for port 1, 6/7 for port 2, and so on.
//
// The handshake: the driver sends DEVICE_READY; the device answers
// PORT_ADD for every port; the driver answers PORT_READY for each; the
// device then sends CONSOLE_PORT for port 0, PORT_NAME for named ports and
// PORT_OPEN(1) for every port, so that the guest sees the host end
// connected (writes to a /dev/vport block until it does). The guest's own
// PORT_OPEN tells when a port is open on its side; Linux throws away data
// that reaches a port the guest has not opened, so receive data waits for
// it.
//
// Queues: VIRTIO_RING_F_EVENT_IDX is offered (virtqueue.hpp). A queue is
// drained with the driver's notifications suppressed, at most one ring's
// worth per call; notify() then says whether work was left.
//
// Transmit (guest -> host): every byte the guest sends on a port goes to
// the sink, in order, as the device walks the chains. Receive (host ->
// guest): queue_receive() holds bytes per port, up to a bound, and copies
// them into the guest's posted buffers once the port is open.
//
// Thread-safe: notify(), queue_receive() and the transport's calls may come
// from different threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "devices/virtio_console_control.hpp"
#include "devices/virtio_device.hpp"
#include "devices/virtqueue.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::devices {

inline constexpr std::uint32_t virtio_id_console = 3;
inline constexpr std::uint64_t virtio_console_f_multiport = 1ull << 1;

struct VirtioConsoleConfig {
    // port_names[0] is the console's (normally empty); one port per entry.
    std::vector<std::string> port_names{"", "ktstr-bulk", "ktstr-stats"};
    // Bytes held per port for the guest before queue_receive refuses more.
    std::size_t receive_limit = 1 << 20;
    // QueueNumMax, which Linux's virtio_mmio takes as its ring size. 128:
    // the lowest CPU cost per byte in bench bulk_path (docs/benchmarks.md,
    // "In-process bulk path"): larger rings let the device run further
    // ahead of the host loop through colder memory; 64 costs about the
    // same per byte but twice the ring-full waits, each an interrupt in a
    // VM.
    std::uint16_t queue_size_max = 128;
};

class VirtioConsole final : public VirtioDevice {
public:
    // Called with the bytes the guest transmitted on `port`, from the thread
    // that notified the queue, with the device locked: it must return
    // quickly without blocking and must not throw. It may call
    // queue_receive(), whose bytes go out once it returns; it must not call
    // notify(). The view is guest memory, valid only during the call.
    using TransmitSink = std::function<void(std::uint32_t port, byte_view bytes)>;

    // Throws std::invalid_argument for no ports or a port count that needs
    // more than 0xffff queues.
    VirtioConsole(VirtioConsoleConfig config, TransmitSink sink);

    // Queues `bytes` for the guest on `port` and delivers what the guest
    // has buffers for. Returns how many bytes were accepted: fewer than
    // bytes.size() when the port already holds receive_limit bytes. Bytes
    // survive a device reset. Throws std::out_of_range for a port that does
    // not exist.
    std::size_t queue_receive(std::uint32_t port, byte_view bytes);

    // Called, with the device locked, when a drain the device ran on its
    // own (host bytes arriving, a port opening, a control message) stopped
    // at its per-call bound with chains still available: the queue's
    // notification must come again, or with EVENT_IDX the driver, told it
    // need not notify, would wait for bytes the device holds. The VMM
    // signals the queue's ioeventfd (quick, never blocks). Set before the
    // device runs.
    using WorkLeft = std::function<void(std::uint16_t queue)>;
    void set_work_left(WorkLeft handler) { work_left_ = std::move(handler); }

    std::uint32_t port_count() const noexcept { return static_cast<std::uint32_t>(config_.port_names.size()); }
    // Whether the guest has `port` open (its last PORT_OPEN said 1).
    bool guest_connected(std::uint32_t port) const;
    // Bytes queued for `port` that the guest has not yet taken.
    std::size_t receive_pending(std::uint32_t port) const;
    // Why the device stopped (a guest broke a queue rule); empty if it
    // never did.
    std::string error() const;

    std::uint32_t device_id() const noexcept override { return virtio_id_console; }
    std::uint64_t features() const noexcept override {
        return virtio_f_version_1 | virtio_console_f_multiport | virtio_ring_f_event_idx;
    }
    std::uint16_t queue_count() const noexcept override;
    std::uint16_t queue_size_max() const noexcept override { return config_.queue_size_max; }
    void read_config(std::uint64_t offset, mutable_byte_view out) const override;
    void write_config(std::uint64_t offset, byte_view in) override;
    void activate(const VirtioActivation& activation) override;
    void reset() override;
    bool notify(std::uint16_t queue) override;

private:
    struct Port {
        bool guest_connected = false;
        byte_buffer pending;           // bytes for the guest from pending_head on
        std::size_t pending_head = 0;
    };

    Virtqueue* queue(std::uint32_t index);
    // Each returns true when it stopped with work left on its queue (the
    // per-call bound of drain(), virtio_console.cpp).
    bool transmit(std::uint32_t port, Virtqueue& q, bool interrupt = true);
    bool receive(std::uint32_t port);
    void receive_all();
    bool control_transmit(Virtqueue& q);
    bool control_receive();
    void handle_control(const VirtioConsoleControl& message);
    void send_control(std::uint32_t id, VirtioConsoleEvent event, std::uint16_t value, std::string_view payload = {});
    void fail(const VirtqueueError& e);
    // work_left_(queue) when `left`: a drain not started by a notification.
    void reschedule_if(bool left, std::uint32_t queue);
    bool running() const noexcept { return active_ && !broken_; }

    const VirtioConsoleConfig config_;
    const TransmitSink sink_;
    WorkLeft work_left_;

    mutable std::mutex mutex_;
    std::vector<Port> ports_;
    std::vector<std::optional<Virtqueue>> queues_;
    VirtioInterrupt* interrupt_ = nullptr;
    bool active_ = false;
    bool broken_ = false;
    bool multiport_ = false;
    bool event_idx_ = false;
    bool receive_deferred_ = false;  // queue_receive from the sink, delivered after it
    std::deque<byte_buffer> control_out_;
    std::string error_;
    std::atomic<std::thread::id> sink_thread_{};
    DescriptorChain chain_;  // storage reused by every pop
};

}  // namespace ktstr::vmm::devices
