// Treats arbitrary bytes as a hostile guest's rings: a 64 KiB RAM image
// holding descriptor tables, available and used rings at offsets the input
// chooses. First one queue is drained directly, then the whole console is
// driven through its virtio-mmio registers with every queue in that RAM.
// Nothing may touch memory outside the RAM image, walk a chain longer than
// the queue, or loop; a broken device must report DEVICE_NEEDS_RESET.
//
// Input: 32 header bytes, then the RAM image (zero-padded).
//   [0]      log2 of the single queue's size (mod 16); bit 7: EVENT_IDX
//   [1..6]   its descriptor, available, used offsets (u16 each)
//   [7]      log2 of the console's queue sizes (low 7 bits mod 10); bit 7:
//            the driver accepts EVENT_IDX
//   [8..13]  base offsets of the console's three areas (u16 each)
//   [14..15] stride between consecutive console queues (u16)
//   [16..31] queue numbers to notify, in order
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "ktstr/common/guest_memory.hpp"
#include "devices/virtio_console.hpp"
#include "devices/virtio_mmio.hpp"
#include "devices/virtqueue.hpp"

using namespace ktstr::vmm::devices;

namespace {

constexpr std::uint64_t ram_base = 0x1000'0000;
constexpr std::size_t ram_size = 64 * 1024;
constexpr std::size_t header_size = 32;

struct Ram {
    std::vector<std::uint8_t> bytes;
    bool contains(ktstr::byte_view v) const {
        return v.empty() || (v.data() >= bytes.data() && v.data() + v.size() <= bytes.data() + bytes.size());
    }
};

std::uint16_t u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

void drain_one_queue(Ram& ram, const ktstr::GuestMemory& view, const std::uint8_t* h) {
    QueueConfig c;
    c.ready = true;
    c.size = static_cast<std::uint16_t>(1u << (h[0] % 16));
    c.desc_table = ram_base + u16(h + 1);
    c.avail_ring = ram_base + u16(h + 3);
    c.used_ring = ram_base + u16(h + 5);
    const bool event_idx = (h[0] & 0x80) != 0;
    if (!queue_layout_error(view, c, 0x8000, event_idx).empty())
        return;
    Virtqueue q(view, c, 0x8000, event_idx);
    DescriptorChain chain;
    try {
        q.suppress_notifications();
        // One ring's worth, as the device does: the writes below may land
        // on the rings themselves and make more available.
        for (std::uint32_t budget = c.size; budget > 0 && q.pop(chain); --budget) {
            if (chain.buffers.empty() || chain.buffers.size() > c.size)
                std::abort();
            for (const auto& b : chain.buffers)
                if (!ram.contains(b.bytes))
                    std::abort();
            std::uint8_t scratch[64];
            (void)chain.read(3, scratch);
            const std::uint8_t fill[32] = {0xaa};
            const auto written = chain.write(fill);
            q.push_used(chain.head, static_cast<std::uint32_t>(written));
            (void)q.needs_interrupt();
        }
        (void)q.rearm_notifications();  // writes avail_event: inside the checked layout
    } catch (const VirtqueueError&) {
    }
}

void drive_console(Ram& ram, const ktstr::GuestMemory& view, const std::uint8_t* h) {
    bool sink_ok = true;
    VirtioConsole console(VirtioConsoleConfig{}, [&](std::uint32_t port, ktstr::byte_view bytes) {
        sink_ok = sink_ok && ram.contains(bytes) && port < 3;
        if (port == 1 && !bytes.empty())
            (void)console.queue_receive(1, bytes.first(1));  // a sink answering at once
    });
    VirtioMmio mmio(console, view, nullptr);
    auto write32 = [&](std::uint64_t offset, std::uint32_t v) {
        std::uint8_t b[4];
        ktstr::store_le<std::uint32_t>(b, v);
        mmio.write(offset, b);
    };
    auto write_addr = [&](std::uint64_t low, std::uint64_t addr) {
        write32(low, static_cast<std::uint32_t>(addr));
        write32(low + 4, static_cast<std::uint32_t>(addr >> 32));
    };
    write32(virtio_mmio_status, 0);
    write32(virtio_mmio_status, virtio_status_acknowledge | virtio_status_driver);
    write32(virtio_mmio_driver_features_sel, 1);
    write32(virtio_mmio_driver_features, 1);  // VIRTIO_F_VERSION_1
    write32(virtio_mmio_driver_features_sel, 0);
    const bool event_idx = (h[7] & 0x80) != 0;
    write32(virtio_mmio_driver_features, 2 | (event_idx ? 1u << 29 : 0));  // MULTIPORT, EVENT_IDX
    write32(virtio_mmio_status, virtio_status_acknowledge | virtio_status_driver | virtio_status_features_ok);
    const std::uint32_t stride = u16(h + 14);
    for (std::uint32_t q = 0; q < console.queue_count(); ++q) {
        write32(virtio_mmio_queue_sel, q);
        write32(virtio_mmio_queue_num, 1u << ((h[7] & 0x7f) % 10));
        write_addr(virtio_mmio_queue_desc_low, ram_base + u16(h + 8) + q * stride);
        write_addr(virtio_mmio_queue_driver_low, ram_base + u16(h + 10) + q * stride);
        write_addr(virtio_mmio_queue_device_low, ram_base + u16(h + 12) + q * stride);
        write32(virtio_mmio_queue_ready, 1);
    }
    write32(virtio_mmio_status, virtio_status_acknowledge | virtio_status_driver | virtio_status_features_ok |
                                    virtio_status_driver_ok);
    const std::uint8_t reply[] = "snapshot reply";
    (void)console.queue_receive(1, reply);
    for (std::size_t i = 16; i < header_size; ++i)
        write32(virtio_mmio_queue_notify, h[i] % 9);  // 8 is not a queue
    if (!sink_ok)
        std::abort();
    if (!console.error().empty() && !(mmio.status() & virtio_status_device_needs_reset))
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < header_size)
        return 0;
    // An exact-size heap buffer so that ASan flags any access past RAM.
    Ram ram{std::vector<std::uint8_t>(ram_size)};
    const std::size_t image = std::min(size - header_size, ram_size);
    std::copy(data + header_size, data + header_size + image, ram.bytes.begin());
    const ktstr::GuestMemory view({{ram_base, ktstr::mutable_byte_view(ram.bytes)}});
    drain_one_queue(ram, view, data);
    // The first pass wrote into the image; start the second from the input again.
    std::copy(data + header_size, data + header_size + image, ram.bytes.begin());
    std::fill(ram.bytes.begin() + static_cast<std::ptrdiff_t>(image), ram.bytes.end(), std::uint8_t{0});
    drive_console(ram, view, data);
    return 0;
}
