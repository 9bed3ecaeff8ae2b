#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "devices/virtqueue.hpp"
#include "fake_guest_memory.hpp"
#include "mock_virtio_driver.hpp"

using namespace ktstr::vmm::devices;
using ktstr::vmm::devices::test::DriverQueue;
using ktstr::vmm::devices::test::FakeGuestMemory;

namespace {

QueueConfig config_of(const DriverQueue& q) { return {true, q.size(), q.desc, q.avail, q.used}; }

std::string error_of(Virtqueue& vq) {
    DescriptorChain chain;
    try {
        while (vq.pop(chain)) {
        }
    } catch (const VirtqueueError& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("virtqueue pops chains in order with their buffers and directions", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256);

    const auto out1 = mem.alloc(10), out2 = mem.alloc(3), in = mem.alloc(64);
    const auto head = dq.add({{out1, 10, false}, {out2, 3, false}, {in, 64, true}});

    DescriptorChain chain;
    REQUIRE(vq.pop(chain));
    CHECK(chain.head == head);
    REQUIRE(chain.buffers.size() == 3);
    CHECK(chain.buffers[0].bytes.data() == mem.at(out1));
    CHECK(chain.buffers[0].bytes.size() == 10);
    CHECK_FALSE(chain.buffers[1].device_writable);
    CHECK(chain.buffers[2].device_writable);
    CHECK(chain.readable_bytes() == 13);
    CHECK(chain.writable_bytes() == 64);
    CHECK_FALSE(vq.pop(chain));

    const std::uint8_t reply[] = {1, 2, 3, 4};
    CHECK(chain.write(reply) == 4);
    CHECK(mem.read(in, 4) == ktstr::byte_buffer{1, 2, 3, 4});
    vq.push_used(chain.head, 4);
    auto used = dq.take_used();
    REQUIRE(used.size() == 1);
    CHECK(used[0].id == head);
    CHECK(used[0].len == 4);
}

TEST_CASE("chain read gathers readable bytes across descriptors from an offset", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 4);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    const auto a = mem.alloc(3), b = mem.alloc(5);
    const std::uint8_t abytes[] = {'a', 'b', 'c'}, bbytes[] = {'d', 'e', 'f', 'g', 'h'};
    mem.write(a, abytes);
    mem.write(b, bbytes);
    dq.add({{a, 3, false}, {b, 5, false}});
    DescriptorChain chain;
    REQUIRE(vq.pop(chain));
    std::uint8_t out[6] = {};
    CHECK(chain.read(2, out) == 6);
    CHECK(std::string(out, out + 6) == "cdefgh");
    CHECK(chain.read(7, out) == 1);
    CHECK(out[0] == 'h');
}

TEST_CASE("virtqueue layout is validated", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 16);
    QueueConfig c = config_of(dq);

    CHECK(queue_layout_error(mem.view(), c, 256).empty());
    c.size = 12;
    CHECK_THAT(queue_layout_error(mem.view(), c, 256), Catch::Contains("power of two"));
    c.size = 0;
    CHECK_THAT(queue_layout_error(mem.view(), c, 256), Catch::Contains("power of two"));
    c.size = 512;
    CHECK_THAT(queue_layout_error(mem.view(), c, 256), Catch::Contains("above the maximum"));
    c = config_of(dq);
    c.desc_table += 8;
    CHECK_THAT(queue_layout_error(mem.view(), c, 256), Catch::Contains("misaligned"));
    c = config_of(dq);
    c.used_ring = mem.end() - 16;  // starts in RAM, ends past it
    CHECK_THAT(queue_layout_error(mem.view(), c, 256), Catch::Contains("used ring"));
    c = config_of(dq);
    c.avail_ring = 0xffff'ffff'ffff'fff0;  // wraps past 2^64
    CHECK_THAT(queue_layout_error(mem.view(), c, 256), Catch::Contains("available ring"));
    CHECK_THROWS_AS(Virtqueue(mem.view(), c, 256), VirtqueueError);
}

TEST_CASE("a descriptor loop ends with an error, not a hang", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    const auto buf = mem.alloc(16);

    SECTION("two descriptors pointing at each other") {
        dq.set_desc(0, buf, 16, virtq_desc_f_next, 1);
        dq.set_desc(1, buf, 16, virtq_desc_f_next, 0);
    }
    SECTION("a descriptor pointing at itself") {
        dq.set_desc(0, buf, 16, virtq_desc_f_next, 0);
    }
    dq.publish(0);
    CHECK_THAT(error_of(vq), Catch::Contains("loop"));
}

TEST_CASE("a chain of exactly the queue size is accepted", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 4);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    const auto buf = mem.alloc(16);
    for (std::uint16_t i = 0; i < 4; ++i)
        dq.set_desc(i, buf, 16, i == 3 ? 0 : virtq_desc_f_next, static_cast<std::uint16_t>(i + 1));
    dq.publish(0);
    DescriptorChain chain;
    REQUIRE(vq.pop(chain));
    CHECK(chain.buffers.size() == 4);
}

TEST_CASE("descriptors outside guest memory are errors", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256);

    SECTION("address below RAM") { dq.set_desc(0, 0x1000, 16, 0, 0); }
    SECTION("address past RAM") { dq.set_desc(0, mem.end(), 1, 0, 0); }
    SECTION("start in RAM, end past it") { dq.set_desc(0, mem.end() - 8, 16, virtq_desc_f_write, 0); }
    SECTION("address + length wraps past 2^64") { dq.set_desc(0, 0xffff'ffff'ffff'fff0, 0x20, 0, 0); }
    SECTION("second descriptor of a chain out of range") {
        dq.set_desc(0, mem.alloc(8), 8, virtq_desc_f_next, 1);
        dq.set_desc(1, FakeGuestMemory::base - 4, 8, 0, 0);
    }
    dq.publish(0);
    CHECK_THAT(error_of(vq), Catch::Contains("outside guest RAM"));
}

TEST_CASE("descriptor rule violations are errors", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    const auto buf = mem.alloc(16);
    std::string expected;

    SECTION("next index beyond the table") {
        dq.set_desc(0, buf, 16, virtq_desc_f_next, 8);
        dq.publish(0);
        expected = "out of range";
    }
    SECTION("head index beyond the table") {
        dq.publish(200);
        expected = "out of range";
    }
    SECTION("indirect descriptor, not negotiated") {
        dq.set_desc(0, buf, 16, virtq_desc_f_indirect, 0);
        dq.publish(0);
        expected = "indirect";
    }
    SECTION("readable after writable") {
        dq.set_desc(0, buf, 16, virtq_desc_f_write | virtq_desc_f_next, 1);
        dq.set_desc(1, buf, 16, 0, 0);
        dq.publish(0);
        expected = "readable after";
    }
    SECTION("available index runs ahead by more than the queue size") {
        dq.set_avail_idx(9);
        expected = "ahead";
    }
    CHECK_THAT(error_of(vq), Catch::Contains(expected));
}

TEST_CASE("zero-length descriptors are not translated", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 4);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    dq.set_desc(0, 0xdead'0000'0000, 0, 0, 0);
    dq.publish(0);
    DescriptorChain chain;
    REQUIRE(vq.pop(chain));
    CHECK(chain.buffers.at(0).bytes.empty());
}

TEST_CASE("available and used indices wrap at 2^16", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 4);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    const auto buf = mem.alloc(4);
    DescriptorChain chain;
    for (int i = 0; i < 70000; ++i) {
        dq.add({{buf, 4, false}});
        REQUIRE(vq.pop(chain));
        vq.push_used(chain.head, 0);
        REQUIRE(dq.take_used().size() == 1);
    }
    CHECK_FALSE(vq.pop(chain));
}

TEST_CASE("the driver's no-interrupt flag is honoured", "[devices][virtqueue]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 4);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    CHECK(vq.needs_interrupt());
    dq.set_no_interrupt(true);
    CHECK_FALSE(vq.needs_interrupt());
}

// --- VIRTIO_RING_F_EVENT_IDX ---

TEST_CASE("event_index_passed is vring_need_event with 16-bit wraparound", "[devices][virtqueue][event_idx]") {
    // The event lies in [old, new): passed.
    STATIC_REQUIRE(event_index_passed(3, 5, 3));
    STATIC_REQUIRE(event_index_passed(4, 5, 3));
    // At new or before old: not passed.
    STATIC_REQUIRE_FALSE(event_index_passed(5, 5, 3));
    STATIC_REQUIRE_FALSE(event_index_passed(2, 5, 3));
    // Nothing moved: never passed.
    STATIC_REQUIRE_FALSE(event_index_passed(7, 7, 7));
    // Across the wrap: [0xfff0, 0x0002).
    STATIC_REQUIRE(event_index_passed(0xfff0, 0x0002, 0xfff0));
    STATIC_REQUIRE(event_index_passed(0xffff, 0x0002, 0xfff0));
    STATIC_REQUIRE(event_index_passed(0x0001, 0x0002, 0xfff0));
    STATIC_REQUIRE_FALSE(event_index_passed(0x0002, 0x0002, 0xfff0));
    STATIC_REQUIRE_FALSE(event_index_passed(0xffef, 0x0002, 0xfff0));
}

TEST_CASE("with EVENT_IDX the device interrupts when the used index passes used_event", "[devices][virtqueue][event_idx]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256, true);
    const auto buf = mem.alloc(4);
    DescriptorChain chain;
    auto push = [&](int n) {
        for (int i = 0; i < n; ++i) {
            dq.add({{buf, 4, false}});
            REQUIRE(vq.pop(chain));
            vq.push_used(chain.head, 0);
        }
        (void)dq.take_used();
    };
    // used_event 0 (as the driver zeroed it): the first batch [0, 3) passes it.
    push(3);
    CHECK(vq.needs_interrupt());
    // The driver asks for an interrupt once entry 5 is used: [3, 5) does
    // not pass it, [5, 6) does.
    dq.set_used_event(5);
    push(2);
    CHECK_FALSE(vq.needs_interrupt());
    push(1);
    CHECK(vq.needs_interrupt());
    // Nothing new since the last answer: no interrupt.
    CHECK_FALSE(vq.needs_interrupt());
    // The NO_INTERRUPT flag is ignored with EVENT_IDX (§2.7.10).
    dq.set_no_interrupt(true);
    dq.set_used_event(6);
    push(1);
    CHECK(vq.needs_interrupt());
}

TEST_CASE("EVENT_IDX interrupts follow used_event across the 16-bit wrap", "[devices][virtqueue][event_idx]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 4);
    Virtqueue vq(mem.view(), config_of(dq), 256, true);
    const auto buf = mem.alloc(4);
    DescriptorChain chain;
    // The driver wants one interrupt per 10 used entries: after each, it
    // moves used_event 10 further (modulo 2^16). The device pushes and
    // asks one entry at a time, through the wrap.
    std::uint16_t used_event = 9;
    dq.set_used_event(used_event);
    int interrupts = 0;
    for (int i = 1; i <= 70000; ++i) {
        dq.add({{buf, 4, false}});
        REQUIRE(vq.pop(chain));
        vq.push_used(chain.head, 0);
        REQUIRE(dq.take_used().size() == 1);
        if (vq.needs_interrupt()) {
            ++interrupts;
            REQUIRE(i % 10 == 0);  // exactly when entry used_event was used
            used_event = static_cast<std::uint16_t>(used_event + 10);
            dq.set_used_event(used_event);
        }
    }
    CHECK(interrupts == 7000);
}

TEST_CASE("EVENT_IDX: avail_event stays behind while the device drains and catches up when it rearms",
          "[devices][virtqueue][event_idx]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256, true);
    const auto buf = mem.alloc(4);
    DescriptorChain chain;

    dq.add({{buf, 4, false}});
    CHECK(dq.should_notify(0, true));  // avail_event 0 in [0, 1): the first kick goes out
    vq.suppress_notifications();
    REQUIRE(vq.pop(chain));
    vq.push_used(chain.head, 0);
    // The driver adds while the device drains: avail_event (0) is behind
    // [1, 2), so it does not notify.
    const std::uint16_t before = dq.avail_idx();
    dq.add({{buf, 4, false}});
    CHECK_FALSE(dq.should_notify(before, true));
    // The device, about to wait, rearms and sees the entry it was not
    // notified for: it must take it.
    CHECK(vq.rearm_notifications());
    CHECK(dq.avail_event() == 1);
    REQUIRE(vq.pop(chain));
    vq.push_used(chain.head, 0);
    CHECK_FALSE(vq.rearm_notifications());
    CHECK(dq.avail_event() == 2);
    // Idle now: the next entry is notified.
    const std::uint16_t idle = dq.avail_idx();
    (void)dq.take_used();
    dq.add({{buf, 4, false}});
    CHECK(dq.should_notify(idle, true));
    CHECK(dq.used_flags() == 0);  // the flag is not used with EVENT_IDX
}

TEST_CASE("EVENT_IDX: avail_event wraps with the available index", "[devices][virtqueue][event_idx]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 4);
    Virtqueue vq(mem.view(), config_of(dq), 256, true);
    const auto buf = mem.alloc(4);
    DescriptorChain chain;
    for (int i = 0; i < 70000; ++i) {
        const std::uint16_t old_idx = dq.avail_idx();
        dq.add({{buf, 4, false}});
        REQUIRE(dq.should_notify(old_idx, true));  // an idle device wants every first entry
        vq.suppress_notifications();
        REQUIRE(vq.pop(chain));
        vq.push_used(chain.head, 0);
        REQUIRE_FALSE(vq.rearm_notifications());
        REQUIRE(dq.avail_event() == dq.avail_idx());
        REQUIRE(dq.take_used().size() == 1);
    }
}

TEST_CASE("without EVENT_IDX the device sets NO_NOTIFY while it drains", "[devices][virtqueue][event_idx]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256);
    const auto buf = mem.alloc(4);
    DescriptorChain chain;
    vq.suppress_notifications();
    CHECK(dq.used_flags() == virtq_used_f_no_notify);
    dq.add({{buf, 4, false}});
    CHECK_FALSE(dq.should_notify(0, false));
    CHECK(vq.rearm_notifications());  // the entry added meanwhile
    CHECK(dq.used_flags() == 0);
    REQUIRE(vq.pop(chain));
    CHECK_FALSE(vq.rearm_notifications());
    CHECK(dq.avail_event() == 0);  // never written without the feature
}

TEST_CASE("EVENT_IDX: a lying driver gets an error or a plain yes/no, never a hang",
          "[devices][virtqueue][event_idx]") {
    FakeGuestMemory mem;
    DriverQueue dq(mem, 0, 8);
    Virtqueue vq(mem.view(), config_of(dq), 256, true);
    const auto buf = mem.alloc(4);
    DescriptorChain chain;
    // Any used_event is a yes or a no: it bounds nothing the device reads.
    for (std::uint32_t e : {0u, 1u, 7u, 8u, 0x7fffu, 0x8000u, 0xfffeu, 0xffffu}) {
        dq.set_used_event(static_cast<std::uint16_t>(e));
        dq.add({{buf, 4, false}});
        REQUIRE(vq.pop(chain));
        vq.push_used(chain.head, 0);
        (void)vq.needs_interrupt();
        (void)dq.take_used();
    }
    // An available index far ahead: rearm reports work, and taking it is
    // an error, as without the feature.
    dq.set_avail_idx(static_cast<std::uint16_t>(dq.avail_idx() + 9));
    CHECK(vq.rearm_notifications());
    CHECK_THAT(error_of(vq), Catch::Contains("ahead of the device"));
}

TEST_CASE("EVENT_IDX layouts include the event fields", "[devices][virtqueue][event_idx]") {
    // A used ring ending at the last byte of RAM fits without the feature,
    // not with it (avail_event would lie outside).
    FakeGuestMemory mem(4096);
    QueueConfig c{true, 4, mem.alloc(64, 16), mem.alloc(12, 2), 0};
    c.used_ring = mem.end() - (4 + 8 * 4);
    CHECK(queue_layout_error(mem.view(), c, 256, false).empty());
    CHECK_THAT(queue_layout_error(mem.view(), c, 256, true), Catch::Contains("used ring"));
    CHECK_THROWS_AS(Virtqueue(mem.view(), c, 256, true), VirtqueueError);
    // Likewise an available ring whose used_event would lie outside.
    QueueConfig d{true, 4, c.desc_table, mem.end() - (4 + 2 * 4), c.desc_table + 64};
    CHECK(queue_layout_error(mem.view(), d, 256, false).empty());
    CHECK_THAT(queue_layout_error(mem.view(), d, 256, true), Catch::Contains("available ring"));
}
