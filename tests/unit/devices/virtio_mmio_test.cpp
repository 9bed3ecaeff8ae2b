// The register file and the status state machine, seen by a driver, in
// front of the console device.
#include <catch2/catch.hpp>

#include <cstdint>

#include "devices/virtio_console.hpp"
#include "devices/virtio_mmio.hpp"
#include "fake_guest_memory.hpp"
#include "mock_virtio_driver.hpp"

using namespace ktstr::vmm::devices;
using ktstr::vmm::devices::test::FakeGuestMemory;
using ktstr::vmm::devices::test::MockVirtioDriver;

namespace {

struct Rig {
    FakeGuestMemory mem;
    int irqs = 0;
    VirtioConsole console{VirtioConsoleConfig{}, nullptr};
    VirtioMmio mmio{console, mem.view(), [this] { ++irqs; }};
    MockVirtioDriver driver{mmio, mem};
};

}  // namespace

TEST_CASE("virtio-mmio identifies a version 2 console", "[devices][virtio_mmio]") {
    Rig r;
    CHECK(r.driver.read32(virtio_mmio_magic_value) == 0x74726976);
    CHECK(r.driver.read32(virtio_mmio_version) == 2);
    CHECK(r.driver.read32(virtio_mmio_device_id) == 3);
    CHECK(r.driver.read32(virtio_mmio_vendor_id) == virtio_mmio_vendor);
    CHECK(r.driver.read32(virtio_mmio_status) == 0);
    CHECK(r.driver.read32(virtio_mmio_config_generation) == 0);

    // Word 0: VIRTIO_CONSOLE_F_MULTIPORT and VIRTIO_RING_F_EVENT_IDX; word 1: VIRTIO_F_VERSION_1.
    CHECK(r.driver.device_features() == ((1ull << 32) | (1ull << 29) | (1ull << 1)));
    r.driver.write32(virtio_mmio_device_features_sel, 2);
    CHECK(r.driver.read32(virtio_mmio_device_features) == 0);

    // Eight queues: port 0, control, port 1, port 2.
    for (std::uint32_t q = 0; q < 8; ++q) {
        r.driver.write32(virtio_mmio_queue_sel, q);
        CHECK(r.driver.read32(virtio_mmio_queue_num_max) == 128);  // VirtioConsoleConfig's default
        CHECK(r.driver.read32(virtio_mmio_queue_ready) == 0);
    }
    r.driver.write32(virtio_mmio_queue_sel, 8);
    CHECK(r.driver.read32(virtio_mmio_queue_num_max) == 0);

    // No shared memory regions: length -1.
    r.driver.write32(virtio_mmio_shm_sel, 0);
    CHECK(r.driver.read32(virtio_mmio_shm_len_low) == 0xffff'ffff);
    CHECK(r.driver.read32(virtio_mmio_shm_len_high) == 0xffff'ffff);
}

TEST_CASE("virtio-mmio config space holds max_nr_ports at every access width", "[devices][virtio_mmio]") {
    Rig r;
    CHECK(r.driver.config32(0) == 0);  // cols, rows
    CHECK(r.driver.config32(4) == 3);  // max_nr_ports
    CHECK(r.driver.config32(8) == 0);  // emerg_wr
    std::uint8_t one[1], two[2], eight[8];
    r.mmio.read(virtio_mmio_config + 4, one);
    CHECK(one[0] == 3);
    r.mmio.read(virtio_mmio_config + 4, two);
    CHECK(ktstr::load_le<std::uint16_t>(two) == 3);
    r.mmio.read(virtio_mmio_config, eight);
    CHECK(ktstr::load_le<std::uint64_t>(eight) == 3ull << 32);
    r.mmio.read(virtio_mmio_config + 10, eight);  // runs off the end: zeros
    CHECK(ktstr::load_le<std::uint64_t>(eight) == 0);
}

TEST_CASE("virtio-mmio ignores misaligned and odd-width register accesses", "[devices][virtio_mmio]") {
    Rig r;
    std::uint8_t two[2] = {0xaa, 0xaa};
    r.mmio.read(virtio_mmio_magic_value, two);
    CHECK(two[0] == 0);
    std::uint8_t four[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    r.mmio.read(virtio_mmio_magic_value + 2, four);
    CHECK(ktstr::load_le<std::uint32_t>(four) == 0);
    const std::uint8_t status_byte[1] = {virtio_status_acknowledge};
    r.mmio.write(virtio_mmio_status, status_byte);
    CHECK(r.driver.status() == 0);
}

TEST_CASE("feature negotiation", "[devices][virtio_mmio]") {
    Rig r;
    SECTION("a subset with VERSION_1 keeps FEATURES_OK") {
        CHECK(r.driver.negotiate(virtio_f_version_1 | virtio_console_f_multiport));
        CHECK(r.driver.status() ==
              (virtio_status_acknowledge | virtio_status_driver | virtio_status_features_ok));
    }
    SECTION("without VERSION_1 the device refuses") {
        CHECK_FALSE(r.driver.negotiate(virtio_console_f_multiport));
    }
    SECTION("a feature not offered is refused") {
        r.driver.write32(virtio_mmio_status, 0);
        r.driver.add_status(virtio_status_acknowledge | virtio_status_driver);
        r.driver.write_driver_features(virtio_f_version_1 | (1ull << 0));  // VIRTIO_CONSOLE_F_SIZE
        r.driver.add_status(virtio_status_features_ok);
        CHECK((r.driver.status() & virtio_status_features_ok) == 0);
    }
    SECTION("a bit in feature word 2 is refused") {
        r.driver.write32(virtio_mmio_status, 0);
        r.driver.add_status(virtio_status_acknowledge | virtio_status_driver);
        r.driver.write_driver_features(virtio_f_version_1);
        r.driver.write32(virtio_mmio_driver_features_sel, 2);
        r.driver.write32(virtio_mmio_driver_features, 1);
        r.driver.add_status(virtio_status_features_ok);
        CHECK((r.driver.status() & virtio_status_features_ok) == 0);
    }
    SECTION("features cannot change after FEATURES_OK") {
        REQUIRE(r.driver.negotiate(virtio_f_version_1));
        r.driver.write_driver_features(virtio_f_version_1 | virtio_console_f_multiport);
        // Only queues 0 and 1 matter to a single-port driver; the rest stay unused.
        r.driver.setup_queue(0, 16);
        r.driver.setup_queue(1, 16);
        r.driver.driver_ok();
        CHECK((r.driver.status() & virtio_status_device_needs_reset) == 0);
        CHECK(r.console.guest_connected(0));  // single-port: the console is open at once
    }
    SECTION("reset clears status and negotiation") {
        REQUIRE(r.driver.negotiate(virtio_f_version_1));
        r.driver.write32(virtio_mmio_status, 0);
        CHECK(r.driver.status() == 0);
    }
}

TEST_CASE("queue setup rejects invalid sizes and areas", "[devices][virtio_mmio]") {
    Rig r;
    REQUIRE(r.driver.negotiate(virtio_f_version_1 | virtio_console_f_multiport));

    SECTION("a valid queue becomes ready") {
        r.driver.setup_queue(0, 128);
        CHECK(r.driver.queue_ready(0));
        CHECK(r.mmio.setup_error().empty());
    }
    SECTION("size not a power of two") {
        r.driver.setup_queue(0, 100);
        CHECK_FALSE(r.driver.queue_ready(0));
        CHECK_THAT(r.mmio.setup_error(), Catch::Contains("queue 0") && Catch::Contains("power of two"));
    }
    SECTION("size above QueueNumMax") {
        r.driver.setup_queue(1, 256);
        CHECK_FALSE(r.driver.queue_ready(1));
        CHECK_THAT(r.mmio.setup_error(), Catch::Contains("above the maximum"));
    }
    SECTION("size above 16 bits") {
        r.driver.write32(virtio_mmio_queue_sel, 0);
        r.driver.write32(virtio_mmio_queue_num, 0x10000);
        r.driver.program(r.mem.alloc(16 * 256), r.mem.alloc(1024), r.mem.alloc(4096));
        r.driver.write32(virtio_mmio_queue_ready, 1);
        CHECK_FALSE(r.driver.queue_ready(0));
    }
    SECTION("areas outside RAM") {
        r.driver.write32(virtio_mmio_queue_sel, 0);
        r.driver.write32(virtio_mmio_queue_num, 16);
        r.driver.program(0xffff'ffff'ffff'ff00, r.mem.alloc(64), r.mem.alloc(256));
        r.driver.write32(virtio_mmio_queue_ready, 1);
        CHECK_FALSE(r.driver.queue_ready(0));
        CHECK_THAT(r.mmio.setup_error(), Catch::Contains("descriptor table"));
    }
    // The driver may go on to DRIVER_OK with the queue it failed to set up;
    // the device then simply has no such queue.
    r.driver.driver_ok();
    CHECK((r.driver.status() & virtio_status_device_needs_reset) == 0);
}

TEST_CASE("with EVENT_IDX accepted, QueueReady checks the rings' event fields", "[devices][virtio_mmio]") {
    Rig r;
    const bool event_idx = GENERATE(false, true);
    REQUIRE(r.driver.negotiate(virtio_f_version_1 | virtio_console_f_multiport |
                               (event_idx ? virtio_ring_f_event_idx : 0)));
    // A 16-entry used ring ending at the last byte of RAM: avail_event
    // would lie outside it.
    r.driver.write32(virtio_mmio_queue_sel, 0);
    r.driver.write32(virtio_mmio_queue_num, 16);
    r.driver.program(r.mem.alloc(16 * 16), r.mem.alloc(64), r.mem.end() - (4 + 8 * 16));
    r.driver.write32(virtio_mmio_queue_ready, 1);
    CHECK(r.driver.queue_ready(0) == !event_idx);
    if (event_idx)
        CHECK_THAT(r.mmio.setup_error(), Catch::Contains("used ring"));
}

TEST_CASE("DRIVER_OK without FEATURES_OK needs a reset", "[devices][virtio_mmio]") {
    Rig r;
    r.driver.add_status(virtio_status_acknowledge | virtio_status_driver);
    r.driver.driver_ok();
    CHECK((r.driver.status() & virtio_status_device_needs_reset) != 0);
    CHECK(r.driver.ack_interrupt() == virtio_interrupt_config);
    CHECK(r.irqs == 1);
    r.driver.write32(virtio_mmio_status, 0);
    CHECK(r.driver.status() == 0);
    CHECK(r.driver.read32(virtio_mmio_interrupt_status) == 0);
}

TEST_CASE("queue registers are frozen once the queue is ready", "[devices][virtio_mmio]") {
    Rig r;
    REQUIRE(r.driver.negotiate(virtio_f_version_1 | virtio_console_f_multiport));
    r.driver.setup_queue(0, 16);
    r.driver.write32(virtio_mmio_queue_num, 100);  // ignored: the queue is live
    r.driver.write32(virtio_mmio_queue_ready, 0);
    r.driver.write32(virtio_mmio_queue_ready, 1);  // re-validated with the size it had
    CHECK(r.driver.queue_ready(0));
}

TEST_CASE("a device outliving its transport holds no stale interrupt", "[devices][virtio_mmio]") {
    FakeGuestMemory mem;
    VirtioConsole console(VirtioConsoleConfig{}, nullptr);
    int irqs = 0;
    {
        VirtioMmio mmio(console, mem.view(), [&] { ++irqs; });
        MockVirtioDriver driver(mmio, mem);
        REQUIRE(driver.negotiate(virtio_f_version_1));
        driver.setup_queue(0, 16);
        driver.setup_queue(1, 16);
        driver.driver_ok();
        REQUIRE(console.guest_connected(0));
    }
    // The transport (and its interrupt) is gone; the device is reset.
    CHECK_FALSE(console.guest_connected(0));
    CHECK(console.queue_receive(0, ktstr::as_bytes(std::string("late"))) == 4);
    CHECK(irqs == 0);
}
