// The multiport console driven as Linux's virtio_console.c drives it:
// probe, control handshake, port data both ways, and a guest that breaks
// the queue rules.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "devices/virtio_console.hpp"
#include "devices/virtio_console_control.hpp"
#include "devices/virtio_mmio.hpp"
#include "fake_guest_memory.hpp"
#include "mock_virtio_driver.hpp"

using namespace ktstr::vmm::devices;
using ktstr::byte_buffer;
using ktstr::byte_view;
using ktstr::vmm::devices::test::DriverQueue;
using ktstr::vmm::devices::test::FakeGuestMemory;
using ktstr::vmm::devices::test::MockVirtioDriver;

namespace {

constexpr std::uint32_t page = 4096;

struct Message {
    std::uint32_t id;
    VirtioConsoleEvent event;
    std::uint16_t value;
    std::string payload;
    friend bool operator==(const Message&, const Message&) = default;
};

std::ostream& operator<<(std::ostream& os, const Message& m) {
    return os << "{" << m.id << ", " << static_cast<int>(m.event) << ", " << m.value << ", \"" << m.payload << "\"}";
}

// The guest side: a mock of drivers/char/virtio_console.c on a mock
// virtio-mmio driver.
class ConsoleGuest {
public:
    explicit ConsoleGuest(VirtioConsoleConfig config = {})
        : console(std::move(config), [this](std::uint32_t port, byte_view bytes) { on_transmit(port, bytes); }),
          mmio(console, mem.view(), [this] { ++irqs; }),
          driver(mmio, mem) {}

    // virtcons_probe up to the point where DEVICE_READY goes out.
    void probe(std::uint16_t queue_size = 64) {
        REQUIRE(driver.negotiate(features));
        nr_ports = driver.config32(4);
        for (std::uint16_t q = 0; q < 2 * (nr_ports + 1); ++q)
            REQUIRE(driver.setup_queue(q, queue_size).index() == q);
        driver.driver_ok();
        REQUIRE(driver.status() == (virtio_status_acknowledge | virtio_status_driver | virtio_status_features_ok |
                                    virtio_status_driver_ok));
        fill(control_rx(), 4);
    }

    // The full handshake as Linux runs it: DEVICE_READY, then for each
    // PORT_ADD fill the port's receive queue and answer PORT_READY; a
    // CONSOLE_PORT makes the guest open the port (init_port_console).
    std::vector<Message> handshake() {
        probe();
        send(virtio_console_bad_id, VirtioConsoleEvent::device_ready, 1);
        std::vector<Message> seen;
        for (int rounds = 0; rounds < 10; ++rounds) {
            auto batch = take_control();
            if (batch.empty())
                break;
            for (const auto& m : batch) {
                seen.push_back(m);
                if (m.event == VirtioConsoleEvent::port_add) {
                    fill(port_rx(m.id), 2);
                    send(m.id, VirtioConsoleEvent::port_ready, 1);
                } else if (m.event == VirtioConsoleEvent::console_port) {
                    send(m.id, VirtioConsoleEvent::port_open, 1);
                }
            }
        }
        return seen;
    }

    DriverQueue& control_rx() { return driver.queue(2); }
    DriverQueue& control_tx() { return driver.queue(3); }
    DriverQueue& port_rx(std::uint32_t port) { return driver.queue(static_cast<std::uint16_t>(port == 0 ? 0 : 2 * (port + 1))); }
    DriverQueue& port_tx(std::uint32_t port) { return driver.queue(static_cast<std::uint16_t>(port == 0 ? 1 : 2 * (port + 1) + 1)); }

    // Posts `count` page-sized device-writable buffers.
    void fill(DriverQueue& q, int count, std::uint32_t size = page) {
        for (int i = 0; i < count; ++i) {
            const auto buf = mem.alloc(size);
            const auto head = q.add({{buf, size, true}});
            buffers[{q.index(), head}] = buf;
        }
        driver.kick(q);
    }

    // __send_control_msg: one readable buffer on the control transmit queue.
    void send(std::uint32_t id, VirtioConsoleEvent event, std::uint16_t value) {
        const auto buf = mem.alloc(8);
        mem.put<std::uint32_t>(buf, id);
        mem.put<std::uint16_t>(buf + 4, static_cast<std::uint16_t>(event));
        mem.put<std::uint16_t>(buf + 6, value);
        control_tx().add({{buf, 8, false}});
        driver.kick(control_tx());
        REQUIRE(control_tx().take_used().size() == 1);  // Linux spins until the device returns it
    }

    // control_work_handler: every used control buffer parsed, then reposted.
    std::vector<Message> take_control() {
        std::vector<Message> out;
        std::vector<std::uint64_t> done;
        for (const auto& u : control_rx().take_used()) {
            const auto buf = buffers.at({2, static_cast<std::uint16_t>(u.id)});
            REQUIRE(u.len >= 8);
            Message m{mem.get<std::uint32_t>(buf), static_cast<VirtioConsoleEvent>(mem.get<std::uint16_t>(buf + 4)),
                      mem.get<std::uint16_t>(buf + 6), {}};
            const auto name = mem.read(buf + 8, u.len - 8);
            m.payload.assign(name.begin(), name.end());
            out.push_back(m);
            done.push_back(buf);
        }
        // Reposted only after all are read: a head may be reused at once.
        for (const auto buf : done)
            buffers[{2, control_rx().add({{buf, page, true}})}] = buf;
        if (!out.empty())
            driver.kick(control_rx());
        return out;
    }

    // What the guest read from `port`: the used receive buffers, in order.
    std::string take_received(std::uint32_t port) {
        std::string s;
        auto& q = port_rx(port);
        for (const auto& u : q.take_used()) {
            const auto buf = buffers.at({q.index(), static_cast<std::uint16_t>(u.id)});
            const auto bytes = mem.read(buf, u.len);
            s.append(bytes.begin(), bytes.end());
        }
        return s;
    }

    void on_transmit(std::uint32_t port, byte_view bytes) {
        transmitted[port].append(bytes.begin(), bytes.end());
        ++sink_calls;
        if (reply_from_sink)
            console.queue_receive(port, bytes);
        if (during_sink)
            during_sink();
    }

    bool needs_reset() { return (driver.status() & virtio_status_device_needs_reset) != 0; }

    FakeGuestMemory mem;
    std::uint64_t features = virtio_f_version_1 | virtio_console_f_multiport;  // what probe() accepts
    int irqs = 0;
    int sink_calls = 0;
    bool reply_from_sink = false;
    std::function<void()> during_sink;  // another vCPU, acting while the device works
    std::map<std::uint32_t, std::string> transmitted;
    VirtioConsole console;
    VirtioMmio mmio;
    MockVirtioDriver driver;
    std::uint32_t nr_ports = 0;
    std::map<std::pair<std::uint16_t, std::uint16_t>, std::uint64_t> buffers;  // (queue, head) -> address
};

std::uint64_t put_text(FakeGuestMemory& mem, const std::string& s) {
    const auto at = mem.alloc(s.size() + 1);
    mem.write(at, ktstr::as_bytes(s));
    return at;
}

}  // namespace

TEST_CASE("multiport handshake: DEVICE_READY, PORT_ADD, PORT_READY, names and opens", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.probe();
    CHECK(g.nr_ports == 3);

    g.send(virtio_console_bad_id, VirtioConsoleEvent::device_ready, 1);
    CHECK(g.take_control() == std::vector<Message>{{0, VirtioConsoleEvent::port_add, 1, ""},
                                                   {1, VirtioConsoleEvent::port_add, 1, ""},
                                                   {2, VirtioConsoleEvent::port_add, 1, ""}});
    CHECK((g.driver.ack_interrupt() & virtio_interrupt_vring) != 0);

    g.send(0, VirtioConsoleEvent::port_ready, 1);
    CHECK(g.take_control() == std::vector<Message>{{0, VirtioConsoleEvent::console_port, 1, ""},
                                                   {0, VirtioConsoleEvent::port_open, 1, ""}});
    g.send(1, VirtioConsoleEvent::port_ready, 1);
    CHECK(g.take_control() == std::vector<Message>{{1, VirtioConsoleEvent::port_name, 1, "ktstr-bulk"},
                                                   {1, VirtioConsoleEvent::port_open, 1, ""}});
    g.send(2, VirtioConsoleEvent::port_ready, 1);
    CHECK(g.take_control() == std::vector<Message>{{2, VirtioConsoleEvent::port_name, 1, "ktstr-stats"},
                                                   {2, VirtioConsoleEvent::port_open, 1, ""}});

    // The guest side of each port is closed until the guest says otherwise.
    CHECK_FALSE(g.console.guest_connected(1));
    g.send(1, VirtioConsoleEvent::port_open, 1);
    CHECK(g.console.guest_connected(1));
    g.send(1, VirtioConsoleEvent::port_open, 0);
    CHECK_FALSE(g.console.guest_connected(1));
}

TEST_CASE("the full handshake loop as Linux runs it", "[devices][virtio_console]") {
    ConsoleGuest g;
    const auto seen = g.handshake();
    CHECK(seen.size() == 3 + 2 + 2 + 2);
    CHECK(g.console.guest_connected(0));  // init_port_console opened hvc0
    CHECK_FALSE(g.needs_reset());
    CHECK(g.console.error().empty());
}

TEST_CASE("failed DEVICE_READY or PORT_READY and bad port ids get no answer", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.probe();
    g.send(virtio_console_bad_id, VirtioConsoleEvent::device_ready, 0);
    g.send(1, VirtioConsoleEvent::port_ready, 0);
    g.send(7, VirtioConsoleEvent::port_ready, 1);
    g.send(7, VirtioConsoleEvent::port_open, 1);
    g.send(0, VirtioConsoleEvent::resize, 1);
    CHECK(g.take_control().empty());
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("a short control message is consumed and ignored", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.probe();
    const auto buf = g.mem.alloc(4);
    g.control_tx().add({{buf, 4, false}});
    g.driver.kick(g.control_tx());
    CHECK(g.control_tx().take_used().size() == 1);
    CHECK(g.take_control().empty());
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("control messages wait for control buffers", "[devices][virtio_console]") {
    ConsoleGuest g;
    REQUIRE(g.driver.negotiate(virtio_f_version_1 | virtio_console_f_multiport));
    for (std::uint16_t q = 0; q < 8; ++q)
        g.driver.setup_queue(q, 8);
    g.driver.driver_ok();
    g.send(virtio_console_bad_id, VirtioConsoleEvent::device_ready, 1);  // no control buffers yet
    CHECK(g.control_rx().take_used().empty());
    g.fill(g.control_rx(), 2);
    auto first = g.take_control();  // two buffers, two messages; the third waits
    REQUIRE(first.size() == 2);
    CHECK(first[0].id == 0);
    CHECK(first[1].id == 1);
    g.driver.kick(g.control_rx());
    auto second = g.take_control();
    REQUIRE(second.size() == 1);
    CHECK(second[0] == Message{2, VirtioConsoleEvent::port_add, 1, ""});
}

TEST_CASE("transmit on port 1 reaches the sink byte-exact across chained descriptors", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    const std::string a = "KTSTR frame header|", b = "x", c(3000, 'p'), d = "|tail";
    const int irqs_before = g.irqs;
    g.port_tx(1).add({{put_text(g.mem, a), static_cast<std::uint32_t>(a.size()), false},
                      {put_text(g.mem, b), 1, false},
                      {put_text(g.mem, c), static_cast<std::uint32_t>(c.size()), false}});
    g.port_tx(1).add({{put_text(g.mem, d), static_cast<std::uint32_t>(d.size()), false}});
    g.driver.kick(g.port_tx(1));

    CHECK(g.transmitted[1] == a + b + c + d);
    CHECK(g.transmitted.count(0) == 0);
    CHECK(g.transmitted.count(2) == 0);
    const auto used = g.port_tx(1).take_used();
    REQUIRE(used.size() == 2);
    CHECK(used[0].len == 0);  // the device wrote nothing into them
    CHECK(g.irqs > irqs_before);

    // Port 2 and the console keep their own streams.
    const std::string s = "stats", con = "hvc0 line\n";
    g.port_tx(2).add({{put_text(g.mem, s), 5, false}});
    g.driver.kick(g.port_tx(2));
    g.port_tx(0).add({{put_text(g.mem, con), static_cast<std::uint32_t>(con.size()), false}});
    g.driver.kick(g.port_tx(0));
    CHECK(g.transmitted[2] == s);
    CHECK(g.transmitted[0] == con);
}

TEST_CASE("an ioeventfd-style notify works like the QueueNotify register", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    const std::string msg = "via ioeventfd";
    g.port_tx(1).add({{put_text(g.mem, msg), static_cast<std::uint32_t>(msg.size()), false}});
    g.mmio.notify(5);
    CHECK(g.transmitted[1] == msg);
    g.mmio.notify(99);  // no such queue: ignored
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("a reset first transmits what the driver made available, without an interrupt", "[devices][virtio_console]") {
    // Linux resets its virtio devices at power-off right after the last
    // write; the kick for that write may still be on its way (ioeventfd).
    ConsoleGuest g;
    g.handshake();
    const std::string last = "written just before power-off", con = "hvc0 tail\n";
    g.port_tx(1).add({{put_text(g.mem, last), static_cast<std::uint32_t>(last.size()), false}});
    g.port_tx(0).add({{put_text(g.mem, con), static_cast<std::uint32_t>(con.size()), false}});
    const int irqs_before = g.irqs;
    g.driver.write32(virtio_mmio_status, 0);  // no notify came
    CHECK(g.transmitted[1] == last);
    CHECK(g.transmitted[0] == con);
    CHECK(g.irqs == irqs_before);
    CHECK(g.driver.status() == 0);
    // Nothing is sent twice: after the reset the queues are forgotten.
    g.mmio.notify(5);  // port 1's transmit queue
    CHECK(g.transmitted[1] == last);
}

TEST_CASE("receive on port 1 waits for the guest to open it, then fills its buffers", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    const std::string reply = "snapshot reply bytes";
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(reply)) == reply.size());
    CHECK(g.take_received(1).empty());  // not open: Linux would discard it
    CHECK(g.console.receive_pending(1) == reply.size());

    g.driver.ack_interrupt();
    const int irqs_before = g.irqs;
    g.send(1, VirtioConsoleEvent::port_open, 1);  // the guest opened /dev/vport0p1
    CHECK(g.irqs > irqs_before);
    CHECK((g.driver.ack_interrupt() & virtio_interrupt_vring) != 0);
    CHECK(g.take_received(1) == reply);
    CHECK(g.console.receive_pending(1) == 0);

    // Open and with buffers: delivered at once.
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(std::string("more"))) == 4);
    CHECK(g.take_received(1) == "more");
}

TEST_CASE("receive data larger than the posted buffers waits for more buffers", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    g.send(1, VirtioConsoleEvent::port_open, 1);
    // handshake() posted two page buffers on port 1's receive queue.
    std::string big;
    for (int i = 0; i < 3 * static_cast<int>(page) + 100; ++i)
        big.push_back(static_cast<char>('a' + i % 26));
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(big)) == big.size());
    std::string got = g.take_received(1);
    CHECK(got.size() == 2 * page);
    CHECK(g.console.receive_pending(1) == big.size() - 2 * page);
    g.fill(g.port_rx(1), 1, 100);  // a small buffer: filled exactly
    got += g.take_received(1);
    g.fill(g.port_rx(1), 2);
    got += g.take_received(1);
    CHECK(got == big);
    CHECK(g.console.receive_pending(1) == 0);
}

TEST_CASE("receive data is bounded per port", "[devices][virtio_console]") {
    VirtioConsoleConfig config;
    config.receive_limit = 10;
    ConsoleGuest g(config);
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(std::string("0123456"))) == 7);
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(std::string("789abc"))) == 3);
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(std::string("x"))) == 0);
    CHECK(g.console.receive_pending(1) == 10);
    CHECK(g.console.receive_pending(2) == 0);
    CHECK_THROWS_AS(g.console.queue_receive(3, ktstr::as_bytes(std::string("x"))), std::out_of_range);

    // Queued before the driver even probed: delivered once the port opens.
    g.handshake();
    g.send(1, VirtioConsoleEvent::port_open, 1);
    CHECK(g.take_received(1) == "0123456789");
}

TEST_CASE("the sink may answer through queue_receive", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    g.send(1, VirtioConsoleEvent::port_open, 1);
    g.reply_from_sink = true;
    const std::string request = "echo me";
    g.port_tx(1).add({{put_text(g.mem, request), static_cast<std::uint32_t>(request.size()), false}});
    g.driver.kick(g.port_tx(1));
    CHECK(g.take_received(1) == request);
}

TEST_CASE("a driver that keeps adding buffers cannot hold a notification forever", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    auto& q = g.port_tx(1);
    const auto buf = put_text(g.mem, "z");
    // Every chain the device consumes is recycled and made available again
    // before the device looks for the next one.
    g.during_sink = [&] {
        (void)q.take_used();
        q.add({{buf, 1, false}});
    };
    q.add({{buf, 1, false}});
    g.driver.kick(q);
    CHECK(g.transmitted[1].size() == 64);  // one ring's worth per notification
    g.during_sink = nullptr;
    g.driver.kick(q);  // the driver's next notification takes the rest
    CHECK(g.transmitted[1].size() == 65);
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("the driver's no-interrupt flag suppresses used-buffer interrupts", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    g.port_tx(1).set_no_interrupt(true);
    const int before = g.irqs;
    const std::string msg = "quiet";
    g.port_tx(1).add({{put_text(g.mem, msg), 5, false}});
    g.driver.kick(g.port_tx(1));
    CHECK(g.transmitted[1] == msg);
    CHECK(g.irqs == before);
    CHECK(g.port_tx(1).take_used().size() == 1);
}

TEST_CASE("a descriptor loop on a transmit queue puts the device in error, not a hang", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    auto& q = g.port_tx(1);
    const auto buf = put_text(g.mem, "loop");
    q.set_desc(10, buf, 4, virtq_desc_f_next, 11);
    q.set_desc(11, buf, 4, virtq_desc_f_next, 10);
    q.publish(10);
    g.driver.ack_interrupt();
    g.driver.kick(q);

    CHECK(g.needs_reset());
    CHECK(g.driver.ack_interrupt() == virtio_interrupt_config);
    CHECK_THAT(g.console.error(), Catch::Contains("loop"));
    CHECK(q.take_used().empty());

    // Broken until reset: further notifications and receive data do nothing.
    const std::string more = "after";
    q.add({{put_text(g.mem, more), 5, false}});
    g.driver.kick(q);
    CHECK(q.take_used().empty());
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(more)) == 5);

    // A reset and a fresh probe bring it back.
    g.handshake();
    CHECK_FALSE(g.needs_reset());
    g.port_tx(1).add({{put_text(g.mem, more), 5, false}});
    g.driver.kick(g.port_tx(1));
    CHECK(g.port_tx(1).take_used().size() == 1);
}

TEST_CASE("descriptor addresses outside guest memory put the device in error", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    auto& q = g.port_tx(1);
    std::string expected = "outside guest RAM";
    SECTION("beyond RAM") { q.set_desc(20, g.mem.end() + 0x1000, 16, 0, 0); }
    SECTION("start in RAM, end past it") { q.set_desc(20, g.mem.end() - 4, 16, 0, 0); }
    SECTION("address + length overflows 2^64") { q.set_desc(20, 0xffff'ffff'ffff'fffc, 8, 0, 0); }
    SECTION("a writable buffer on a transmit queue") {
        q.set_desc(20, put_text(g.mem, "w"), 1, virtq_desc_f_write, 0);
        expected = "device-writable";
    }
    q.publish(20);
    g.driver.kick(q);
    CHECK(g.needs_reset());
    CHECK_THAT(g.console.error(), Catch::Contains(expected));
    CHECK(g.transmitted[1].empty());
}

TEST_CASE("a readable buffer on a receive queue puts the device in error", "[devices][virtio_console]") {
    ConsoleGuest g;
    g.handshake();
    g.send(1, VirtioConsoleEvent::port_open, 1);
    // Take the posted buffers first so that the bad one is next.
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(std::string(2 * page, 'z'))) == 2 * page);
    CHECK(g.take_received(1).size() == 2 * page);
    auto& q = g.port_rx(1);
    q.set_desc(30, put_text(g.mem, "r"), 1, 0, 0);
    q.publish(30);
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(std::string("data"))) == 4);
    CHECK(g.needs_reset());
    CHECK_THAT(g.console.error(), Catch::Contains("device-readable"));
}

TEST_CASE("a single-port driver gets the console on queues 0 and 1", "[devices][virtio_console]") {
    ConsoleGuest g;
    REQUIRE(g.driver.negotiate(virtio_f_version_1));  // no MULTIPORT
    g.driver.setup_queue(0, 16);
    g.driver.setup_queue(1, 16);
    g.driver.driver_ok();
    g.fill(g.driver.queue(0), 1);
    const std::string line = "early console\n";
    g.driver.queue(1).add({{put_text(g.mem, line), static_cast<std::uint32_t>(line.size()), false}});
    g.driver.kick(g.driver.queue(1));
    CHECK(g.transmitted[0] == line);
    CHECK(g.console.queue_receive(0, ktstr::as_bytes(std::string("in"))) == 2);
    CHECK(g.take_received(0) == "in");
}

TEST_CASE("a bad receive ring met at activation breaks the device, which then does nothing until reset",
          "[devices][virtio_console]") {
    // Bytes held from before the driver came go out at DRIVER_OK, on a
    // ring the guest wrote beforehand. The device used to throw out of
    // activate() and stay active, transmitting behind NEEDS_RESET (caught by
    // virtio_mmio_fuzz's needs-reset invariant).
    ConsoleGuest g;
    CHECK(g.console.queue_receive(0, ktstr::as_bytes(std::string("early"))) == 5);
    REQUIRE(g.driver.negotiate(virtio_f_version_1));  // single port: port 0 is open at once
    auto& rx = g.driver.setup_queue(0, 16);
    auto& tx = g.driver.setup_queue(1, 16);
    rx.add({{put_text(g.mem, "r"), 1, false}});  // device-readable on a receive queue
    g.driver.driver_ok();
    CHECK(g.needs_reset());
    CHECK_THAT(g.console.error(), Catch::Contains("device-readable"));

    const std::string line = "after\n";
    tx.add({{put_text(g.mem, line), static_cast<std::uint32_t>(line.size()), false}});
    g.driver.kick(tx);
    CHECK(g.transmitted[0].empty());
    CHECK(tx.take_used().empty());
}

// --- VIRTIO_RING_F_EVENT_IDX ---

namespace {

constexpr std::uint64_t with_event_idx = virtio_f_version_1 | virtio_console_f_multiport | virtio_ring_f_event_idx;

}  // namespace

TEST_CASE("EVENT_IDX is offered and, once accepted, every queue asks for the driver's next buffer",
          "[devices][virtio_console][event_idx]") {
    ConsoleGuest g;
    CHECK((g.driver.device_features() & virtio_ring_f_event_idx) != 0);
    g.features = with_event_idx;
    ConsoleGuest without;
    CHECK(g.handshake() == without.handshake());  // the same handshake as without the feature
    // Each queue the device has taken everything from wants a notification
    // for the driver's next entry: avail_event == the driver's index.
    for (DriverQueue* q : {&g.control_tx(), &g.port_tx(1)})
        CHECK(q->avail_event() == q->avail_idx());

    const std::string msg = "over an event-index ring";
    g.port_tx(1).add({{put_text(g.mem, msg), static_cast<std::uint32_t>(msg.size()), false}});
    const std::uint16_t old_idx = static_cast<std::uint16_t>(g.port_tx(1).avail_idx() - 1);
    REQUIRE(g.port_tx(1).should_notify(old_idx, true));
    g.driver.kick(g.port_tx(1));
    CHECK(g.transmitted[1] == msg);
    CHECK(g.port_tx(1).avail_event() == g.port_tx(1).avail_idx());

    // Host -> guest: the two receive buffers posted at PORT_ADD are filled
    // once the guest opens the port; the bytes they cannot hold wait, and
    // the driver's next buffer is asked for (avail_event caught up).
    g.send(1, VirtioConsoleEvent::port_open, 1);
    const std::string reply = std::string(2 * page, 'r') + "the rest";
    CHECK(g.console.queue_receive(1, ktstr::as_bytes(reply)) == reply.size());
    CHECK(g.take_received(1) == reply.substr(0, 2 * page));
    auto& rx = g.port_rx(1);
    const std::uint16_t rx_old = rx.avail_idx();
    const auto buf = g.mem.alloc(page);
    g.buffers[{rx.index(), rx.add({{buf, page, true}})}] = buf;
    CHECK(rx.should_notify(rx_old, true));
    g.driver.kick(rx);
    CHECK(g.take_received(1) == "the rest");
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("EVENT_IDX: a driver adding while the device drains is not asked to notify, and nothing is left",
          "[devices][virtio_console][event_idx]") {
    ConsoleGuest g;
    g.features = with_event_idx;
    g.handshake();
    auto& q = g.port_tx(1);
    const auto buf = put_text(g.mem, "y");
    int added = 0;
    bool notified_while_draining = false;
    g.during_sink = [&] {
        if (added == 10)
            return;
        (void)q.take_used();
        const std::uint16_t old_idx = q.avail_idx();
        q.add({{buf, 1, false}});
        ++added;
        notified_while_draining = notified_while_draining || q.should_notify(old_idx, true);
    };
    q.add({{buf, 1, false}});
    g.driver.kick(q);
    CHECK_FALSE(notified_while_draining);
    CHECK(g.transmitted[1] == std::string(11, 'y'));  // all in the one notification
    CHECK(q.avail_event() == q.avail_idx());
}

TEST_CASE("EVENT_IDX: used-buffer interrupts follow the driver's used_event", "[devices][virtio_console][event_idx]") {
    ConsoleGuest g;
    g.features = with_event_idx;
    g.handshake();
    auto& q = g.port_tx(1);
    const auto buf = put_text(g.mem, "i");
    auto send_one = [&] {
        q.add({{buf, 1, false}});
        g.driver.kick(q);
        (void)q.take_used();
    };
    // The transmit queue has used nothing yet: an interrupt after entry 2
    // is used, i.e. on the third buffer.
    q.set_used_event(2);
    const int before = g.irqs;
    send_one();
    send_one();
    CHECK(g.irqs == before);
    send_one();
    CHECK(g.irqs == before + 1);
    // The NO_INTERRUPT flag does not silence an EVENT_IDX ring.
    q.set_no_interrupt(true);
    q.set_used_event(3);
    send_one();
    CHECK(g.irqs == before + 2);
}

TEST_CASE("a notification takes one ring's worth and says when it left work", "[devices][virtio_console]") {
    const bool event_idx = GENERATE(false, true);
    ConsoleGuest g;
    if (event_idx)
        g.features = with_event_idx;
    g.handshake();
    auto& q = g.port_tx(1);
    const auto buf = put_text(g.mem, "z");
    // Every chain the device consumes is recycled and made available again
    // before the device looks for the next one: the driver never stops.
    g.during_sink = [&] {
        (void)q.take_used();
        q.add({{buf, 1, false}});
    };
    q.add({{buf, 1, false}});
    CHECK(g.mmio.notify(5));  // work left: the device thread calls again
    CHECK(g.transmitted[1].size() == 64);
    CHECK(g.mmio.notify(5));
    CHECK(g.transmitted[1].size() == 128);
    g.during_sink = nullptr;
    CHECK_FALSE(g.mmio.notify(5));  // the one still available, then idle
    CHECK(g.transmitted[1].size() == 129);
    CHECK_FALSE(g.mmio.notify(5));
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("EVENT_IDX: a driver that lies about its available index breaks the device, no hang",
          "[devices][virtio_console][event_idx]") {
    ConsoleGuest g;
    g.features = with_event_idx;
    g.handshake();
    auto& q = g.port_tx(1);
    q.set_used_event(0x8000);
    q.set_avail_idx(static_cast<std::uint16_t>(q.avail_idx() + 65));  // queue size 64
    CHECK_FALSE(g.mmio.notify(5));
    CHECK(g.needs_reset());
    CHECK_THAT(g.console.error(), Catch::Contains("ahead of the device"));
}

