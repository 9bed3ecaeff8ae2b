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
