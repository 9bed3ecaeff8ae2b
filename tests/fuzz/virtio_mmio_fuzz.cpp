// A hostile virtio driver: the input is a little program run against a
// VirtioMmio transport in front of a multiport VirtioConsole, with guest RAM
// in two regions (a gap between them). Operations: register reads and
// writes of any width at any offset, bytes written anywhere in RAM (rings
// and descriptors scribbled at will), queue notifications, resets in the
// middle of a transfer, host-side queue_receive, and a few driver-shaped
// shortcuts (bring-up, queue setup, posting a chain, a control message) so
// that the fuzzer reaches a live device quickly.
//
// Invariants, checked after every operation:
// - nothing throws but queue_receive's documented out_of_range, and
//   nothing crashes (ASan, UBSan);
// - every byte the transmit sink sees lies inside guest RAM, on a port that
//   exists;
// - the device writes nothing outside guest RAM: guard bytes around each
//   region stay intact (ASan covers the rest of the heap);
// - work per operation is bounded: at most queue_size_max^2 sink calls and
//   a bounded number of interrupts;
// - the device holds at most receive_limit bytes per port;
// - identification registers read as specified; a reset leaves status,
//   interrupt status and every QueueReady at zero;
// - a device that broke says so with DEVICE_NEEDS_RESET.
//
// Input: byte 0 picks the configuration, then operations until the input
// ends (at most max_ops). tests/fuzz/make_virtio_mmio_seeds.py writes the
// seeds and documents the encoding.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ktstr/common/guest_memory.hpp"
#include "devices/virtio_console.hpp"
#include "devices/virtio_mmio.hpp"
#include "devices/virtqueue.hpp"

using namespace ktstr::vmm::devices;

namespace {

constexpr std::size_t max_ops = 512;
constexpr std::size_t guard = 64;
constexpr std::uint8_t guard_byte = 0x5a;

// Guest RAM: region 0 at 0x1000'0000 (64 KiB), region 1 after a 4 KiB gap
// (8 KiB). Address operands pick a base (the two regions, 0, the top of the
// address space) and add a 16-bit offset, so they land inside, across the
// ends of, and far outside RAM.
constexpr std::array<std::uint64_t, 2> region_gpa{0x1000'0000, 0x1001'1000};
constexpr std::array<std::size_t, 2> region_size{64 * 1024, 8 * 1024};
constexpr std::array<std::uint64_t, 4> address_base{region_gpa[0], region_gpa[1], 0, ~0ull - 0xffff};

struct Ram {
    std::array<std::vector<std::uint8_t>, 2> backing;
    Ram() {
        for (std::size_t r = 0; r < 2; ++r)
            backing[r].assign(region_size[r] + 2 * guard, guard_byte);
        for (std::size_t r = 0; r < 2; ++r)
            std::fill_n(host(r), region_size[r], std::uint8_t{0});
    }
    std::uint8_t* host(std::size_t r) { return backing[r].data() + guard; }
    ktstr::mutable_byte_view region(std::size_t r) { return {host(r), region_size[r]}; }
    bool contains(ktstr::byte_view v) const {
        for (std::size_t r = 0; r < 2; ++r) {
            const auto* lo = backing[r].data() + guard;
            if (v.data() >= lo && v.data() + v.size() <= lo + region_size[r])
                return true;
        }
        return false;
    }
    bool guards_intact() const {
        for (const auto& b : backing)
            for (std::size_t i = 0; i < guard; ++i)
                if (b[i] != guard_byte || b[b.size() - 1 - i] != guard_byte)
                    return false;
        return true;
    }
    // Host bytes for [gpa, gpa + n) when inside one region.
    std::uint8_t* at(std::uint64_t gpa, std::size_t n) {
        for (std::size_t r = 0; r < 2; ++r)
            if (gpa >= region_gpa[r] && gpa - region_gpa[r] <= region_size[r] &&
                n <= region_size[r] - (gpa - region_gpa[r]))
                return host(r) + (gpa - region_gpa[r]);
        return nullptr;
    }
    // The harness's own writes: silently dropped where not RAM.
    void write(std::uint64_t gpa, const std::uint8_t* p, std::size_t n) {
        if (auto* h = at(gpa, n))
            std::memcpy(h, p, n);
    }
    template <typename T>
    void put(std::uint64_t gpa, T v) {
        std::uint8_t b[sizeof(T)];
        ktstr::store_le<T>(b, v);
        write(gpa, b, sizeof b);
    }
};

class Input {
public:
    Input(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
    bool empty() const { return i_ >= n_; }
    std::uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
    std::uint32_t u32() { return u16() | (std::uint32_t{u16()} << 16); }
    std::uint64_t u64() { return u32() | (std::uint64_t{u32()} << 32); }
    std::uint64_t address() {
        const auto base = address_base[u8() % address_base.size()];
        return base + u16();
    }
    ktstr::byte_view bytes(std::size_t n) {
        n = std::min(n, n_ - std::min(i_, n_));
        ktstr::byte_view v(d_ + i_, n);
        i_ += n;
        return v;
    }

private:
    const std::uint8_t* d_;
    std::size_t n_;
    std::size_t i_ = 0;
};

// What the harness last programmed for a queue, to place chains in it. The
// device may hold something else (a raw register write, a refused setup).
struct QueueMirror {
    std::uint16_t size = 0;
    std::uint64_t desc = 0, avail = 0, used = 0;
    std::uint16_t avail_idx = 0;
};

[[noreturn]] void broken(const char* why) {
    std::fprintf(stderr, "virtio_mmio_fuzz: invariant broken: %s\n", why);
    std::abort();
}

void check(bool ok, const char* why) {
    if (!ok)
        broken(why);
}

class Harness {
public:
    explicit Harness(std::uint8_t config)
        : console_(make_config(config),
                   [this](std::uint32_t port, ktstr::byte_view bytes) { on_transmit(port, bytes); }),
          view_({{region_gpa[0], ram_.region(0)}, {region_gpa[1], ram_.region(1)}}),
          mmio_(console_, view_, [this] { ++interrupts_; }),
          echo_(config & 0x80),
          mirrors_(console_.queue_count()) {}

    void run(Input& in) {
        for (std::size_t ops = 0; ops < max_ops && !in.empty(); ++ops) {
            sink_calls_ = 0;
            interrupts_ = 0;
            const std::string error_before = console_.error();
            step(in);
            check(ram_.guards_intact(), "a write outside guest RAM");
            check(sink_ok_, "transmit sink saw bytes outside guest RAM or a port that does not exist");
            const std::uint64_t size_max = console_.queue_size_max();
            // A notify serves one queue (at most a ring of chains of at most
            // a ring of buffers); a reset flushes every port's transmit queue.
            check(sink_calls_ <= console_.port_count() * size_max * size_max,
                  "unbounded transmit work in one operation");
            check(interrupts_ <= 4 * size_max + 16, "unbounded interrupts in one operation");
            for (std::uint32_t p = 0; p < console_.port_count(); ++p)
                check(console_.receive_pending(p) <= receive_limit, "a port holds more than receive_limit");
            const std::string error_after = console_.error();
            if (error_after != error_before && !error_after.empty())
                check(mmio_.status() & virtio_status_device_needs_reset, "a broken device without NEEDS_RESET");
        }
    }

    std::size_t transmitted() const { return transmitted_; }
    std::uint32_t status() const { return mmio_.status(); }
    std::string error() const { return console_.error(); }

private:
    static constexpr std::size_t receive_limit = 4096;

    static VirtioConsoleConfig make_config(std::uint8_t c) {
        VirtioConsoleConfig config;
        config.queue_size_max = static_cast<std::uint16_t>(1u << ((c & 0x7f) % 9));  // 1..256
        config.receive_limit = receive_limit;
        return config;
    }

    void on_transmit(std::uint32_t port, ktstr::byte_view bytes) {
        ++sink_calls_;
        sink_ok_ = sink_ok_ && port < console_.port_count() && ram_.contains(bytes);
        transmitted_ += bytes.size();
        // A host answering at once from inside the sink, as a snapshot
        // responder does.
        if (echo_ && !bytes.empty())
            (void)console_.queue_receive(port, bytes.first(std::min<std::size_t>(bytes.size(), 16)));
    }

    std::uint32_t read32(std::uint64_t offset) {
        std::uint8_t b[4];
        mmio_.read(offset, b);
        return ktstr::load_le<std::uint32_t>(b);
    }
    void write32(std::uint64_t offset, std::uint32_t v) {
        std::uint8_t b[4];
        ktstr::store_le<std::uint32_t>(b, v);
        mmio_.write(offset, b);
    }
    void write_addr(std::uint64_t low, std::uint64_t addr) {
        write32(low, static_cast<std::uint32_t>(addr));
        write32(low + 4, static_cast<std::uint32_t>(addr >> 32));
    }

    static std::size_t width(std::uint8_t w) {
        constexpr std::array<std::size_t, 8> widths{4, 1, 2, 8, 4, 3, 0, 4};
        return widths[w % widths.size()];
    }

    void reset_and_check() {
        write32(virtio_mmio_status, 0);
        check(read32(virtio_mmio_status) == 0, "status not zero after a reset");
        check(read32(virtio_mmio_interrupt_status) == 0, "interrupt status not zero after a reset");
        for (std::uint32_t q = 0; q < console_.queue_count(); ++q) {
            write32(virtio_mmio_queue_sel, q);
            check(read32(virtio_mmio_queue_ready) == 0, "a queue still ready after a reset");
        }
        write32(virtio_mmio_queue_sel, 0);
        for (auto& m : mirrors_)
            m = {};
    }

    void setup_queue(std::uint32_t q, std::uint16_t size, std::uint64_t desc, std::uint64_t avail,
                     std::uint64_t used) {
        write32(virtio_mmio_queue_sel, q);
        write32(virtio_mmio_queue_num, size);
        write_addr(virtio_mmio_queue_desc_low, desc);
        write_addr(virtio_mmio_queue_driver_low, avail);
        write_addr(virtio_mmio_queue_device_low, used);
        write32(virtio_mmio_queue_ready, 1);
        if (q < mirrors_.size())
            mirrors_[q] = {size, desc, avail, used, 0};
    }

    // Links `n` descriptors from `first` (mod the queue size) and makes the
    // chain available.
    struct Desc {
        std::uint64_t addr;
        std::uint32_t len;
        std::uint16_t flags;
    };
    void post(std::uint32_t q, std::uint16_t first, const std::vector<Desc>& descs) {
        if (q >= mirrors_.size() || mirrors_[q].size == 0 || descs.empty())
            return;
        auto& m = mirrors_[q];
        for (std::size_t i = 0; i < descs.size(); ++i) {
            const auto index = static_cast<std::uint16_t>((first + i) % m.size);
            const auto next = static_cast<std::uint16_t>((first + i + 1) % m.size);
            const bool last = i + 1 == descs.size();
            const std::uint64_t d = m.desc + 16u * index;
            ram_.put<std::uint64_t>(d, descs[i].addr);
            ram_.put<std::uint32_t>(d + 8, descs[i].len);
            ram_.put<std::uint16_t>(d + 12, static_cast<std::uint16_t>(descs[i].flags | (last ? 0 : virtq_desc_f_next)));
            ram_.put<std::uint16_t>(d + 14, next);
        }
        ram_.put<std::uint16_t>(m.avail + 4 + 2u * (m.avail_idx % m.size), static_cast<std::uint16_t>(first % m.size));
        ++m.avail_idx;
        ram_.put<std::uint16_t>(m.avail + 2, m.avail_idx);
    }

    void step(Input& in) {
        switch (in.u8() % 12) {
        case 0: {  // a register or configuration write of any width
            const auto w = width(in.u8());
            const std::uint64_t offset = in.u16() % 0x200;
            std::uint8_t b[8];
            ktstr::store_le<std::uint64_t>(b, in.u64());
            mmio_.write(offset, {b, w});
            break;
        }
        case 1: {  // a read of any width
            const auto w = width(in.u8());
            const std::uint64_t offset = in.u16() % 0x200;
            std::uint8_t b[8];
            std::memset(b, 0xee, sizeof b);
            mmio_.read(offset, {b, w});
            const auto v = ktstr::load_le<std::uint32_t>(b);
            if (w == 4 && offset == virtio_mmio_magic_value)
                check(v == virtio_mmio_magic, "magic value");
            if (w == 4 && offset == virtio_mmio_version)
                check(v == 2, "version");
            if (w == 4 && offset == virtio_mmio_device_id)
                check(v == virtio_id_console, "device id");
            if (offset >= virtio_mmio_config + 12 && w != 0)
                check(std::all_of(b, b + w, [](std::uint8_t x) { return x == 0; }), "config beyond its end");
            break;
        }
        case 2: {  // scribble on guest memory
            const auto gpa = in.address();
            const auto data = in.bytes(in.u8());
            ram_.write(gpa, data.data(), data.size());
            break;
        }
        case 3: {  // a notification, through the register or the ioeventfd path
            const std::uint8_t q = in.u8();
            const bool needs_reset = mmio_.status() & virtio_status_device_needs_reset;
            if (q & 0x80)
                write32(virtio_mmio_queue_notify, q & 0x7f);
            else
                mmio_.notify(q % (console_.queue_count() + 2u));
            check(!needs_reset || sink_calls_ == 0, "a device that needs a reset still transmits");
            break;
        }
        case 4:
            reset_and_check();
            break;
        case 5: {  // the host queues bytes for the guest
            const std::uint8_t p = in.u8();
            const auto data = in.bytes(in.u8());
            try {
                (void)console_.queue_receive(p % (console_.port_count() + 1), data);
                check(p % (console_.port_count() + 1) < console_.port_count(), "queue_receive took a bad port");
            } catch (const std::out_of_range&) {
                check(p % (console_.port_count() + 1) >= console_.port_count(), "queue_receive refused a good port");
            }
            break;
        }
        case 6: {  // a whole bring-up: features, every queue, DRIVER_OK
            const std::uint8_t features = in.u8();
            const std::uint16_t size = static_cast<std::uint16_t>(1u << (in.u8() % 10));
            const std::uint64_t base = in.address() & ~0xfull;
            const std::uint32_t stride = in.u16() & ~0xfu;
            write32(virtio_mmio_status, 0);
            write32(virtio_mmio_status, virtio_status_acknowledge | virtio_status_driver);
            write32(virtio_mmio_driver_features_sel, 1);
            write32(virtio_mmio_driver_features, features & 1);  // VIRTIO_F_VERSION_1
            write32(virtio_mmio_driver_features_sel, 0);
            write32(virtio_mmio_driver_features, features & 2);  // MULTIPORT
            write32(virtio_mmio_status, virtio_status_acknowledge | virtio_status_driver | virtio_status_features_ok);
            // Descriptors, then available, then used ring, per queue.
            const std::uint64_t avail_off = 16u * size, used_off = (avail_off + 6 + 2u * size + 3) & ~3ull;
            for (auto& m : mirrors_)
                m = {};
            for (std::uint32_t q = 0; q < console_.queue_count(); ++q)
                setup_queue(q, size, base + q * stride, base + q * stride + avail_off, base + q * stride + used_off);
            write32(virtio_mmio_status, virtio_status_acknowledge | virtio_status_driver | virtio_status_features_ok |
                                            virtio_status_driver_ok);
            break;
        }
        case 7: {  // one queue's setup, any values
            const std::uint32_t q = in.u8();
            const std::uint16_t size = in.u16();
            const auto desc = in.address(), avail = in.address(), used = in.address();
            setup_queue(q, size, desc, avail, used);
            break;
        }
        case 8: {  // a chain of up to 8 descriptors made available
            const std::uint32_t q = in.u8() % (console_.queue_count() + 0u);
            const std::uint16_t first = in.u8();
            std::vector<Desc> descs(1 + in.u8() % 8);
            for (auto& d : descs)
                d = {in.address(), in.u16(), static_cast<std::uint16_t>(in.u8() & 7)};
            post(q, first, descs);
            break;
        }
        case 9: {  // a control message: written, posted on control transmit, notified
            const std::uint64_t at = in.address();
            ram_.put<std::uint32_t>(at, in.u8());                   // port id
            ram_.put<std::uint16_t>(at + 4, in.u8() % 8);           // event
            ram_.put<std::uint16_t>(at + 6, in.u8() % 2);           // value
            post(3, in.u8(), {{at, 8, 0}});
            mmio_.notify(3);
            break;
        }
        case 10: {  // the interrupt handler: read and acknowledge
            write32(virtio_mmio_interrupt_ack, read32(virtio_mmio_interrupt_status));
            break;
        }
        case 11: {  // a status write of any value
            write32(virtio_mmio_status, in.u8());
            break;
        }
        }
    }

    Ram ram_;
    VirtioConsole console_;
    ktstr::GuestMemory view_;
    VirtioMmio mmio_;
    bool echo_;
    std::vector<QueueMirror> mirrors_;
    bool sink_ok_ = true;
    std::uint64_t sink_calls_ = 0;
    std::uint64_t interrupts_ = 0;
    std::size_t transmitted_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    Input in(data + 1, size - 1);
    Harness h(data[0]);
    h.run(in);
    // For checking seeds by hand: VIRTIO_MMIO_FUZZ_TRACE=1 fuzzer SEED.
    static const bool trace = std::getenv("VIRTIO_MMIO_FUZZ_TRACE") != nullptr;
    if (trace)
        std::fprintf(stderr, "transmitted %zu bytes, status %#x, error '%s'\n", h.transmitted(), h.status(),
                     h.error().c_str());
    return 0;
}
