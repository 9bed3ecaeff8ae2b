// The bulk path guest -> host in one process, without KVM: a mock guest
// driver (mock_bulk_driver.hpp) writes TLV frames in 64 KiB writes to the
// bulk port's transmit queue of the real VirtioConsole behind the real
// virtio-mmio transport, in a plain memory region standing in for guest
// RAM; a thread standing for the VMM's device thread (the ioeventfd of
// QueueNotify) runs the transport's notify; the console's sink hands the
// bytes to a real HostLoop as `ktstr-vmm run` wires it (bulk_transmit ->
// BulkChannel -> TLV assembler -> Dispatcher), whose stdout sink counts
// frames and bytes. An iteration ends when every byte has reached the sink.
//
//  - bulk_path/in_process/queue:<Q>/event_idx:<0|1>: 64 MiB per iteration,
//    one Stdout frame per write (16-byte header, 65520 payload bytes, as
//    `ktstr-selftest --bulk-bytes` writes), queue size Q, EVENT_IDX
//    negotiated or not. Wall-clock rate (three threads at work); per write:
//    notifications, interrupts and the process's page faults.
//  - bulk_path/memcpy_anchor: one memcpy of the same 64 MiB from the same
//    guest RAM, the rate the path is compared with.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

#include <sys/resource.h>

#include "devices/virtio_console.hpp"
#include "devices/virtio_mmio.hpp"
#include "ktstr/common/frame.hpp"
#include "ktstr/common/guest_memory.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/host/host_loop.hpp"
#include "mock_bulk_driver.hpp"

namespace {

using ktstr::byte_buffer;
using ktstr::byte_view;
using ktstr::GuestMemory;
using ktstr::bench::MockBulkDriver;
namespace devices = ktstr::vmm::devices;
namespace host = ktstr::host;

constexpr std::uint64_t ram_base = 0x4000'0000;
constexpr std::size_t write_bytes = 64 << 10;
constexpr std::size_t stream_bytes = 64 << 20;
constexpr std::size_t writes_per_stream = stream_bytes / write_bytes;
constexpr std::uint32_t bulk_port = 1;
constexpr std::uint16_t bulk_transmit_queue = 5;

// Guest RAM: the rings (at most 1024 entries) at the start, then the
// frame stream from `stream_offset`.
class GuestRam {
public:
    static constexpr std::uint64_t stream_offset = 1 << 20;

    GuestRam() : bytes_(stream_offset + stream_bytes), view_({{ram_base, ktstr::mutable_byte_view(bytes_)}}) {
        static_assert(stream_offset >= 64 << 10, "room for 1024-entry rings");
        const byte_buffer payload_template(write_bytes - ktstr::frame_header_size);
        byte_buffer payload = payload_template;
        for (std::size_t w = 0; w < writes_per_stream; ++w) {
            // Different bytes per frame, so each CRC is computed on its own data.
            for (std::size_t i = 0; i < payload.size(); ++i)
                payload[i] = static_cast<std::uint8_t>(w * 131 + i * 7);
            const auto frame = ktstr::encode_frame(ktstr::to_u32(ktstr::MsgType::Stdout), payload);
            std::memcpy(bytes_.data() + stream_offset + w * write_bytes, frame.data(), frame.size());
        }
    }
    GuestRam(const GuestRam&) = delete;
    GuestRam& operator=(const GuestRam&) = delete;

    const GuestMemory& view() const noexcept { return view_; }
    ktstr::mutable_byte_view rings() noexcept { return ktstr::mutable_byte_view(bytes_).first(stream_offset); }
    byte_view stream() const noexcept { return byte_view(bytes_).subspan(stream_offset, stream_bytes); }

private:
    byte_buffer bytes_;
    GuestMemory view_;
};

// The VMM's device thread for one queue (machine/device_events.cpp): the
// doorbell is the ioeventfd KVM signals on a QueueNotify write; the thread
// calls the transport's notify and, when the device left work, goes again.
class DeviceThread {
public:
    DeviceThread(devices::VirtioMmio& mmio, std::uint16_t queue)
        : mmio_(mmio), queue_(queue), thread_([this] { loop(); }) {}
    DeviceThread(const DeviceThread&) = delete;
    DeviceThread& operator=(const DeviceThread&) = delete;
    ~DeviceThread() {
        stop_.store(true);
        ring();
        thread_.join();
    }

    void ring() noexcept {
        rings_.fetch_add(1, std::memory_order_release);
        rings_.notify_one();
    }

private:
    void loop() {
        std::uint32_t seen = 0;
        for (;;) {
            rings_.wait(seen, std::memory_order_acquire);
            seen = rings_.load(std::memory_order_acquire);
            if (stop_.load())
                return;
            while (mmio_.notify(queue_)) {
            }
        }
    }

    devices::VirtioMmio& mmio_;
    const std::uint16_t queue_;
    std::atomic<std::uint32_t> rings_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;  // last
};

// What reached the host loop's stdout sink.
struct Delivered {
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> frames{0};

    void wait_for(std::uint64_t total) {
        for (std::uint64_t b = bytes.load(); b < total; b = bytes.load())
            bytes.wait(b);
    }
};

// Page faults and CPU seconds (user and system) of the whole process so
// far: every thread of the path.
std::uint64_t minor_faults() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<std::uint64_t>(u.ru_minflt);
}

double process_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

host::HostLoopConfig loop_config(const GuestRam& ram, Delivered& delivered) {
    host::HostLoopConfig c;
    c.memory = ram.view();
    c.stdout_sink = [&delivered](byte_view b) {
        delivered.frames.fetch_add(1, std::memory_order_relaxed);
        delivered.bytes.fetch_add(b.size(), std::memory_order_release);
        delivered.bytes.notify_one();
        return true;
    };
    return c;
}

void BM_bulk_path(benchmark::State& state) {
    const auto queue_size = static_cast<std::uint16_t>(state.range(0));
    const bool event_idx = state.range(1) != 0;

    GuestRam ram;
    Delivered delivered;
    host::HostLoop loop(loop_config(ram, delivered));
    devices::VirtioConsole console(devices::VirtioConsoleConfig{.queue_size_max = 1024},
                                   [&loop](std::uint32_t port, byte_view b) {
                                       if (port == bulk_port)
                                           loop.bulk_transmit(b);
                                   });
    MockBulkDriver* driver_for_irq = nullptr;
    devices::VirtioMmio mmio(console, ram.view(), [&driver_for_irq] {
        if (driver_for_irq)
            driver_for_irq->on_interrupt();
    });
    std::optional<DeviceThread> device;
    MockBulkDriver driver(mmio, [&device] { device->ring(); }, ram.rings(), ram_base, {queue_size, event_idx});
    driver_for_irq = &driver;
    loop.start();
    device.emplace(mmio, bulk_transmit_queue);
    driver.probe();
    if (driver.event_idx() != event_idx) {
        state.SkipWithError("EVENT_IDX not negotiated as asked");
        return;
    }

    std::uint64_t expected = 0;
    const std::uint64_t faults_before = minor_faults();
    const double cpu_before = process_cpu_seconds();
    for (auto _ : state) {
        for (std::size_t w = 0; w < writes_per_stream; ++w)
            driver.write(ram_base + GuestRam::stream_offset + w * write_bytes, write_bytes);
        driver.wait_idle();
        expected += writes_per_stream * (write_bytes - ktstr::frame_header_size);
        delivered.wait_for(expected);
    }
    const std::uint64_t faults = minor_faults() - faults_before;
    const double cpu = process_cpu_seconds() - cpu_before;
    device.reset();
    const auto& result = loop.stop_after_vcpus();
    const auto counters = driver.counters();
    const std::uint64_t frames = state.iterations() * writes_per_stream;
    if (delivered.bytes.load() != expected || delivered.frames.load() != frames ||
        result.bulk.handover_dropped_bytes != 0 || result.bulk.assembler.crc_errors != 0 ||
        result.bulk.received_bytes != state.iterations() * stream_bytes || !console.error().empty()) {
        state.SkipWithError("bytes lost, refused or corrupted on the way");
        return;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream_bytes));
    state.counters["notify_per_write"] =
        static_cast<double>(counters.notifications) / static_cast<double>(counters.writes);
    state.counters["irq_per_write"] = static_cast<double>(counters.interrupts) / static_cast<double>(counters.writes);
    state.counters["full_waits"] = static_cast<double>(counters.waits_for_room);
    // The rate per CPU second of all threads together: what the path costs,
    // less sensitive than the wall-clock rate to a machine shared with
    // other work.
    state.counters["GiB_per_cpu_s"] =
        static_cast<double>(state.iterations() * stream_bytes) / static_cast<double>(1u << 30) / cpu;
    state.counters["faults_per_write"] = static_cast<double>(faults) / static_cast<double>(counters.writes);
}

BENCHMARK(BM_bulk_path)
    ->Name("bulk_path/in_process")
    ->ArgsProduct({{64, 128, 256, 512, 1024}, {0, 1}})
    ->ArgNames({"queue", "event_idx"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_bulk_memcpy_anchor(benchmark::State& state) {
    GuestRam ram;
    byte_buffer out(stream_bytes);
    for (auto _ : state) {
        std::memcpy(out.data(), ram.stream().data(), stream_bytes);
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(out.data());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream_bytes));
}

BENCHMARK(BM_bulk_memcpy_anchor)->Name("bulk_path/memcpy_anchor")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
