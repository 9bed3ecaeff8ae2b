// ktstr-host-latency: the host loop's share of two latencies, in one
// process and without a VM, so that the figures are the host library's own
// (docs/benchmarks.md):
//   - SHM: a "guest" thread writes a frame into the SHM ring; time until the
//     host loop's drain timer has dispatched it to a subscriber;
//   - snapshot: a request frame handed over as the console device would;
//     time until the reply reaches the device's receive side (a capture
//     writes the SHM copy and capture.json on the capture thread first and
//     its reply is posted back to the loop; an unknown kind is answered
//     ERR at once).
// Prints p50, p99 and the maximum in microseconds.
//
// Usage: ktstr-host-latency [SAMPLES]   (default 2000; snapshots: 200)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/shm_ring.hpp"
#include "ktstr/common/tlv_assembler.hpp"
#include "ktstr/host/host_loop.hpp"

using namespace ktstr;
using namespace ktstr::host;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t shm_gpa = 0xc000000;
constexpr std::size_t shm_bytes = 1 << 20;  // run's default --shm-size

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

// Spins (yielding) until `done` or a second passed; false on the latter.
template <typename F>
bool wait_for(F done) {
    const auto limit = clock_type::now() + std::chrono::seconds(1);
    while (!done()) {
        if (clock_type::now() > limit)
            return false;
        std::this_thread::yield();
    }
    return true;
}

void report(const char* what, std::vector<double> us, std::size_t lost) {
    if (us.empty()) {
        std::printf("%-44s no samples (%zu lost)\n", what, lost);
        return;
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, static_cast<std::size_t>(p * static_cast<double>(us.size())))]; };
    std::printf("%-44s n=%-5zu p50 %8.1f us  p99 %8.1f us  max %8.1f us%s\n", what, us.size(), pct(0.50), pct(0.99),
                us.back(), lost ? "  (some lost)" : "");
}

// Guest memory: 8-byte aligned, as a VMM mapping is.
struct Shm {
    std::vector<std::uint64_t> words = std::vector<std::uint64_t>(shm_bytes / 8);
    std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(words.data()); }
};

HostLoopConfig base_config(Shm& shm) {
    ring_init(SharedRegion(shm.data(), shm_bytes));  // as the VMM does when it maps the region
    HostLoopConfig c;
    c.memory = GuestMemory({{shm_gpa, {shm.data(), shm_bytes}}});
    c.shm_base = shm_gpa;
    c.shm_size = shm_bytes;
    c.send_to_guest = [](byte_view b) { return b.size(); };
    c.stdout_sink = [](byte_view) { return true; };
    c.stderr_sink = [](byte_view) { return true; };
    c.diagnostics = [](byte_view) { return true; };
    return c;
}

void shm_latency(std::size_t samples, std::chrono::microseconds interval) {
    Shm shm;
    auto cfg = base_config(shm);
    cfg.shm_poll_interval = interval;
    HostLoop loop(std::move(cfg));
    std::atomic<std::int64_t> seen_at{0};
    std::atomic<std::uint64_t> seen{0};
    loop.dispatcher().subscribe(MsgType::Stimulus, [&](Channel, const Frame&) {
        seen_at.store(now_ns(), std::memory_order_relaxed);
        seen.fetch_add(1, std::memory_order_release);
    });
    loop.start();

    // Writes land at random points of the poll period, as a guest's would.
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> pause_us(0, static_cast<int>(interval.count()));
    std::vector<double> us;
    std::size_t lost = 0;
    const SharedRegion ring(shm.data(), shm_bytes);
    std::array<std::uint8_t, 24> payload{};
    for (std::size_t i = 0; i < samples; ++i) {
        // Spin, not sleep: a sleep's timer slack (~50 us) would lock the
        // writes to the poll phase at short intervals.
        const auto until = clock_type::now() + std::chrono::microseconds(pause_us(rng));
        while (clock_type::now() < until) {
        }
        const auto before = seen.load(std::memory_order_acquire);
        const auto t0 = now_ns();
        if (ring_write(ring, to_u32(MsgType::Stimulus), payload) != RingWriteStatus::written) {
            ++lost;
            continue;
        }
        if (!wait_for([&] { return seen.load(std::memory_order_acquire) > before; })) {
            ++lost;
            continue;
        }
        us.push_back(static_cast<double>(seen_at.load(std::memory_order_relaxed) - t0) / 1000.0);
    }
    loop.stop_after_vcpus();
    const auto label = "SHM write -> dispatch, poll " + std::to_string(interval.count()) + " us";
    report(label.c_str(), std::move(us), lost);
}

byte_buffer request_frame(std::uint32_t id, SnapshotKind kind) {
    SnapshotRequestPayload p;
    p.request_id = id;
    p.kind = static_cast<std::uint32_t>(kind);
    p.tag = make_padded_text("bench");
    return encode_frame(to_u32(MsgType::SnapshotRequest), encode(p));
}

void snapshot_latency(std::size_t samples, std::uint32_t kind, const char* label) {
    Shm shm;
    auto cfg = base_config(shm);
    const fs::path dir = fs::temp_directory_path() / ("ktstr-host-latency-" + std::to_string(::getpid()));
    cfg.output_dir = dir;
    cfg.max_snapshot_captures = samples;
    std::atomic<std::int64_t> reply_at{0};
    std::atomic<std::uint64_t> replies{0};
    cfg.send_to_guest = [&](byte_view b) {
        reply_at.store(now_ns(), std::memory_order_relaxed);
        replies.fetch_add(1, std::memory_order_release);
        return b.size();
    };
    std::vector<double> us;
    std::size_t lost = 0;
    {
        HostLoop loop(std::move(cfg));
        loop.start();
        for (std::uint32_t id = 1; id <= samples; ++id) {
            const auto frame = request_frame(id, static_cast<SnapshotKind>(kind));
            const auto before = replies.load(std::memory_order_acquire);
            const auto t0 = now_ns();
            loop.bulk_transmit(frame);
            if (!wait_for([&] { return replies.load(std::memory_order_acquire) > before; })) {
                ++lost;
                continue;
            }
            us.push_back(static_cast<double>(reply_at.load(std::memory_order_relaxed) - t0) / 1000.0);
        }
        loop.stop_after_vcpus();
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    report(label, std::move(us), lost);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t samples = 2000;
    if (argc > 1) {
        char* end = nullptr;
        samples = std::strtoull(argv[1], &end, 10);
        if (!end || *end || samples == 0 || samples > 1000000) {
            std::fprintf(stderr, "ktstr-host-latency: SAMPLES must be 1 to 1000000, not '%s'\n", argv[1]);
            return 2;
        }
    }
    shm_latency(samples, std::chrono::microseconds(1000));
    shm_latency(samples, std::chrono::microseconds(100));
    const std::size_t snapshots = std::min<std::size_t>(samples, 200);
    snapshot_latency(snapshots, static_cast<std::uint32_t>(SnapshotKind::Capture), "snapshot request -> reply, capture (1 MiB)");
    snapshot_latency(snapshots, 99, "snapshot request -> reply, unknown kind (ERR)");
    return 0;
}
