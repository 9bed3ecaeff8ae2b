#include "devices/virtio_console.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace ktstr::vmm::devices {

namespace {

constexpr std::uint32_t control_receive_queue = 2;
constexpr std::uint32_t control_transmit_queue = 3;

// virtio_console_config: cols u16, rows u16, max_nr_ports u32, emerg_wr u32.
constexpr std::size_t config_size = 12;

std::uint32_t receive_queue_of(std::uint32_t port) { return port == 0 ? 0 : 2 * (port + 1); }

// The port a data queue belongs to (queues 2 and 3 are control).
std::uint32_t port_of(std::uint32_t queue) { return queue < 2 ? 0 : queue / 2 - 1; }

// Sets the sink's thread for the duration of a call, so that
// queue_receive() from inside the sink knows the device lock is its own.
class SinkScope {
public:
    explicit SinkScope(std::atomic<std::thread::id>& owner) : owner_(owner) { owner_ = std::this_thread::get_id(); }
    ~SinkScope() { owner_ = std::thread::id{}; }
    SinkScope(const SinkScope&) = delete;
    SinkScope& operator=(const SinkScope&) = delete;

private:
    std::atomic<std::thread::id>& owner_;
};

// What one drain() call did.
struct Drained {
    bool used = false;  // chains went back to the driver: maybe an interrupt
    bool left = false;  // stopped at the bound with chains still available
};

// Takes chains from `q` while `wanted()` says the device has a use for one
// (a transmit queue always; a receive queue while bytes wait), handing each
// to `take`, which returns it to the driver. At most one ring's worth per
// call: a driver never has more outstanding at once, and a guest whose
// used ring overlaps its available ring could otherwise make the device's
// own writes feed it forever. The driver's notifications are suppressed
// while it works and asked for again before it returns; a chain made
// available in between (the driver may have skipped its notification) is
// taken then, or reported in `left` if the bound was reached.
// The rounds are bounded too: a guest flipping its available index between
// pop's look and the rearm's could otherwise keep the loop going without
// a chain taken.
template <typename Wanted, typename Take>
Drained drain(Virtqueue& q, DescriptorChain& chain, Wanted wanted, Take take) {
    Drained d;
    std::uint32_t budget = q.size();
    q.suppress_notifications();
    for (std::uint32_t round = 1;; ++round) {
        for (; budget > 0 && wanted() && q.pop(chain); --budget) {
            take(chain);
            d.used = true;
        }
        if (!q.rearm_notifications() || !wanted())
            return d;
        if (budget == 0 || round == q.size()) {
            d.left = true;
            return d;
        }
        q.suppress_notifications();
    }
}

}  // namespace

VirtioConsole::VirtioConsole(VirtioConsoleConfig config, TransmitSink sink)
    : config_(std::move(config)), sink_(std::move(sink)), ports_(config_.port_names.size()) {
    if (config_.port_names.empty())
        throw std::invalid_argument("virtio-console needs at least one port");
    if (config_.port_names.size() > 0xffff / 2 - 1)
        throw std::invalid_argument("virtio-console: too many ports for 16-bit queue numbers");
    if (config_.queue_size_max == 0 || config_.queue_size_max > virtq_size_limit)
        throw std::invalid_argument("virtio-console: queue_size_max must be within 1..32768");
}

std::uint16_t VirtioConsole::queue_count() const noexcept {
    return static_cast<std::uint16_t>(2 * (config_.port_names.size() + 1));
}

void VirtioConsole::read_config(std::uint64_t offset, mutable_byte_view out) const {
    std::uint8_t space[config_size] = {};
    store_le<std::uint32_t>(space + 4, port_count());  // cols, rows: 0 (VIRTIO_CONSOLE_F_SIZE not offered)
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = offset < config_size && i < config_size - offset ? space[offset + i] : 0;
}

void VirtioConsole::write_config(std::uint64_t, byte_view) {
    // emerg_wr is only writable with VIRTIO_CONSOLE_F_EMERG_WRITE, not offered.
}

void VirtioConsole::activate(const VirtioActivation& a) {
    std::lock_guard lock(mutex_);
    multiport_ = (a.features & virtio_console_f_multiport) != 0;
    event_idx_ = (a.features & virtio_ring_f_event_idx) != 0;
    queues_.clear();
    queues_.resize(queue_count());
    // Without multiport only port 0's pair exists; anything else is unused.
    const std::size_t usable = multiport_ ? queues_.size() : 2;
    for (std::size_t i = 0; i < usable && i < a.queues.size(); ++i) {
        if (!a.queues[i].ready)
            continue;
        try {
            queues_[i].emplace(a.memory, a.queues[i], config_.queue_size_max, event_idx_);
        } catch (const VirtqueueError& e) {
            queues_.clear();
            throw VirtqueueError(fmt::format("queue {}: {}", i, e.what()));
        }
    }
    for (auto& p : ports_)
        p.guest_connected = false;
    // A single-port driver has no PORT_OPEN: its console is always open.
    ports_[0].guest_connected = !multiport_;
    interrupt_ = &a.interrupt;
    control_out_.clear();
    broken_ = false;
    active_ = true;
    // Bytes held from before go out now, on rings the guest may have broken
    // already: that is a broken device (NEEDS_RESET), not a refused
    // activation, which would leave this device active behind a transport
    // that thinks it is not.
    try {
        receive_all();
    } catch (const VirtqueueError& e) {
        fail(e);
    }
}

void VirtioConsole::reset() {
    std::lock_guard lock(mutex_);
    // What the driver made available on a transmit queue goes out before
    // the reset forgets the queues. Its kick travels through an ioeventfd
    // the device thread may not have served when the reset, a register
    // write on a vCPU thread, arrives; Linux resets its virtio devices at
    // power-off right after the last write, and nothing a guest wrote
    // before powering off may be lost. No interrupt: the driver is gone.
    // Each queue on its own: a ring the guest broke holds nothing more to
    // take, the others still go out, and the reset always completes.
    if (running()) {
        for (std::uint16_t index = 1; index < queues_.size(); index += 2) {
            Virtqueue* q = queue(index);
            if (!q || (multiport_ && index == control_transmit_queue))
                continue;
            try {
                (void)transmit(port_of(index), *q, false);
            } catch (...) {
            }
        }
    }
    active_ = false;
    broken_ = false;
    multiport_ = false;
    event_idx_ = false;
    queues_.clear();
    interrupt_ = nullptr;
    control_out_.clear();
    for (auto& p : ports_)
        p.guest_connected = false;
}

bool VirtioConsole::notify(std::uint16_t index) {
    std::lock_guard lock(mutex_);
    if (!running())
        return false;
    Virtqueue* q = queue(index);
    if (!q)
        return false;  // a queue the driver never set up
    bool left = false;
    try {
        if (multiport_ && index == control_transmit_queue)
            left = control_transmit(*q);
        else if (multiport_ && index == control_receive_queue)
            left = control_receive();
        else if (index % 2 == 1)
            left = transmit(port_of(index), *q);
        else
            left = receive(port_of(index));
        if (receive_deferred_) {
            receive_deferred_ = false;
            receive_all();
        }
    } catch (const VirtqueueError& e) {
        fail(e);
        return false;
    }
    return left;
}

std::size_t VirtioConsole::queue_receive(std::uint32_t port, byte_view bytes) {
    if (port >= port_count())
        throw std::out_of_range(fmt::format("virtio-console has no port {}", port));
    auto append = [&] {
        Port& p = ports_[port];
        const std::size_t held = p.pending.size() - p.pending_head;
        const std::size_t n = std::min(bytes.size(), config_.receive_limit - std::min(held, config_.receive_limit));
        p.pending.insert(p.pending.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        return n;
    };
    if (sink_thread_.load() == std::this_thread::get_id()) {
        // Called from inside the transmit sink: this thread holds the lock.
        receive_deferred_ = true;
        return append();
    }
    std::lock_guard lock(mutex_);
    const std::size_t n = append();
    if (running()) {
        try {
            // What a full bound leaves is asked for again (reschedule_if).
            reschedule_if(receive(port), receive_queue_of(port));
        } catch (const VirtqueueError& e) {
            fail(e);
        }
    }
    return n;
}

bool VirtioConsole::guest_connected(std::uint32_t port) const {
    std::lock_guard lock(mutex_);
    return port < ports_.size() && ports_[port].guest_connected;
}

std::size_t VirtioConsole::receive_pending(std::uint32_t port) const {
    std::lock_guard lock(mutex_);
    return port < ports_.size() ? ports_[port].pending.size() - ports_[port].pending_head : 0;
}

std::string VirtioConsole::error() const {
    std::lock_guard lock(mutex_);
    return error_;
}

Virtqueue* VirtioConsole::queue(std::uint32_t index) {
    return index < queues_.size() && queues_[index] ? &*queues_[index] : nullptr;
}

bool VirtioConsole::transmit(std::uint32_t port, Virtqueue& q, bool interrupt) {
    const Drained d = drain(q, chain_, [] { return true; }, [&](DescriptorChain& chain) {
        if (std::any_of(chain.buffers.begin(), chain.buffers.end(), [](auto& b) { return b.device_writable; }))
            throw VirtqueueError(fmt::format("port {} transmit chain has a device-writable buffer", port));
        if (sink_) {
            SinkScope scope(sink_thread_);
            for (const auto& b : chain.buffers)
                if (!b.bytes.empty())
                    sink_(port, b.bytes);
        }
        q.push_used(chain.head, 0);
    });
    if (interrupt && d.used && q.needs_interrupt())
        interrupt_->signal_used_buffer();
    return d.left;
}

bool VirtioConsole::receive(std::uint32_t port) {
    Port& p = ports_[port];
    Virtqueue* q = queue(receive_queue_of(port));
    if (!q || !p.guest_connected)
        return false;
    const Drained d = drain(*q, chain_, [&] { return p.pending_head < p.pending.size(); }, [&](DescriptorChain& chain) {
        if (std::any_of(chain.buffers.begin(), chain.buffers.end(), [](auto& b) { return !b.device_writable; }))
            throw VirtqueueError(fmt::format("port {} receive chain has a device-readable buffer", port));
        const byte_view rest(p.pending.data() + p.pending_head, p.pending.size() - p.pending_head);
        const std::size_t n = chain.write(rest);
        p.pending_head += n;
        q->push_used(chain.head, static_cast<std::uint32_t>(n));
    });
    if (p.pending_head == p.pending.size()) {
        p.pending.clear();
        p.pending_head = 0;
    } else if (p.pending_head > p.pending.size() / 2) {
        // Drop what the guest took once it is the larger part: amortised O(1).
        p.pending.erase(p.pending.begin(), p.pending.begin() + static_cast<std::ptrdiff_t>(p.pending_head));
        p.pending_head = 0;
    }
    if (d.used && q->needs_interrupt())
        interrupt_->signal_used_buffer();
    return d.left;
}

void VirtioConsole::receive_all() {
    for (std::uint32_t port = 0; port < ports_.size(); ++port)
        reschedule_if(receive(port), receive_queue_of(port));
}

bool VirtioConsole::control_transmit(Virtqueue& q) {
    const Drained d = drain(q, chain_, [] { return true; }, [&](DescriptorChain& chain) {
        if (std::any_of(chain.buffers.begin(), chain.buffers.end(), [](auto& b) { return b.device_writable; }))
            throw VirtqueueError("control transmit chain has a device-writable buffer");
        std::uint8_t raw[sizeof(VirtioConsoleControl)];
        const bool complete = chain.read(0, raw) == sizeof raw;
        q.push_used(chain.head, 0);
        // A message too short to parse is the driver's loss, not a broken ring.
        if (complete)
            handle_control(VirtioConsoleControl{load_le<std::uint32_t>(raw), load_le<std::uint16_t>(raw + 4),
                                                load_le<std::uint16_t>(raw + 6)});
    });
    if (d.used && q.needs_interrupt())
        interrupt_->signal_used_buffer();
    reschedule_if(control_receive(), control_receive_queue);
    return d.left;
}

bool VirtioConsole::control_receive() {
    Virtqueue* q = queue(control_receive_queue);
    if (!q)
        return false;
    const Drained d = drain(*q, chain_, [&] { return !control_out_.empty(); }, [&](DescriptorChain& chain) {
        if (std::any_of(chain.buffers.begin(), chain.buffers.end(), [](auto& b) { return !b.device_writable; }))
            throw VirtqueueError("control receive chain has a device-readable buffer");
        // A buffer too small truncates the message; Linux posts a page each.
        const std::size_t n = chain.write(control_out_.front());
        q->push_used(chain.head, static_cast<std::uint32_t>(n));
        control_out_.pop_front();
    });
    if (d.used && q->needs_interrupt())
        interrupt_->signal_used_buffer();
    return d.left;
}

void VirtioConsole::handle_control(const VirtioConsoleControl& m) {
    switch (static_cast<VirtioConsoleEvent>(m.event)) {
    case VirtioConsoleEvent::device_ready:
        if (m.value == 1)
            for (std::uint32_t id = 0; id < port_count(); ++id)
                send_control(id, VirtioConsoleEvent::port_add, 1);
        break;
    case VirtioConsoleEvent::port_ready:
        if (m.id >= port_count() || m.value != 1)
            break;
        if (m.id == 0)
            send_control(0, VirtioConsoleEvent::console_port, 1);
        if (!config_.port_names[m.id].empty())
            send_control(m.id, VirtioConsoleEvent::port_name, 1, config_.port_names[m.id]);
        send_control(m.id, VirtioConsoleEvent::port_open, 1);
        break;
    case VirtioConsoleEvent::port_open:
        if (m.id >= port_count())
            break;
        ports_[m.id].guest_connected = m.value != 0;
        reschedule_if(receive(m.id), receive_queue_of(m.id));
        break;
    default:
        break;  // device -> driver events, or unknown: nothing to do
    }
}

void VirtioConsole::send_control(std::uint32_t id, VirtioConsoleEvent event, std::uint16_t value,
                                 std::string_view payload) {
    // Only driver messages produce control messages, a few per port each; a
    // driver that sends many without posting buffers loses the excess.
    if (control_out_.size() >= 8 * ports_.size() + 16)
        return;
    byte_buffer m(sizeof(VirtioConsoleControl) + payload.size());
    store_le<std::uint32_t>(m.data(), id);
    store_le<std::uint16_t>(m.data() + 4, static_cast<std::uint16_t>(event));
    store_le<std::uint16_t>(m.data() + 6, value);
    std::copy(payload.begin(), payload.end(), m.begin() + sizeof(VirtioConsoleControl));
    control_out_.push_back(std::move(m));
}

void VirtioConsole::reschedule_if(bool left, std::uint32_t queue) {
    if (left && work_left_)
        work_left_(static_cast<std::uint16_t>(queue));
}

void VirtioConsole::fail(const VirtqueueError& e) {
    broken_ = true;
    error_ = e.what();
    if (interrupt_)
        interrupt_->signal_needs_reset();
}

}  // namespace ktstr::vmm::devices
