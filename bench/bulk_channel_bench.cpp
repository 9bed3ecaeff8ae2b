// BulkChannel: the device thread's hand_over (it runs with the console
// device locked, once per virtqueue buffer) and the loop's pump.
//  - hand_over/N: N-byte hand-overs. 32 KiB is the normal case (a full
//    virtio-console buffer), 1 byte a guest using tiny descriptors. The
//    pump runs outside the timing, every 16 MiB, to keep the backlog under
//    its limit.
//  - hand_over_and_pump: 4 MiB of 4 KiB-payload frames handed over in
//    32 KiB pieces, then pumped through the assembler: the whole bulk path
//    up to the dispatcher.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>

#include "ktstr/common/frame.hpp"
#include "ktstr/host/bulk_channel.hpp"

namespace {

using ktstr::byte_buffer;
using ktstr::byte_view;
using ktstr::Frame;
using ktstr::host::BulkChannel;

void BM_bulk_hand_over(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    const byte_buffer bytes(size, 0x5a);
    BulkChannel channel({.backlog_limit = std::size_t{1} << 30}, {}, {});
    const std::size_t batch = std::max<std::size_t>(1, (std::size_t{16} << 20) / size);
    std::size_t queued = 0;
    for (auto _ : state) {
        if (!channel.hand_over(bytes)) {
            state.SkipWithError("hand-over refused");
            break;
        }
        if (++queued == batch) {
            state.PauseTiming();
            channel.pump([](Frame&&) {});
            queued = 0;
            state.ResumeTiming();
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_bulk_hand_over)->Name("bulk_channel/hand_over")->Arg(1)->Arg(32 << 10);

void BM_bulk_hand_over_and_pump(benchmark::State& state) {
    constexpr std::size_t piece = 32 << 10;
    const byte_buffer payload(4096, 0x33);
    byte_buffer stream;
    std::size_t frames = 0;
    while (stream.size() < (std::size_t{4} << 20)) {
        const auto f = ktstr::encode_frame(1, payload);
        stream.insert(stream.end(), f.begin(), f.end());
        ++frames;
    }
    BulkChannel channel({}, {}, {});
    for (auto _ : state) {
        for (std::size_t off = 0; off < stream.size(); off += piece)
            channel.hand_over(byte_view(stream).subspan(off, std::min(piece, stream.size() - off)));
        std::size_t got = 0;
        channel.pump([&](Frame&& f) {
            benchmark::DoNotOptimize(f.crc_ok);
            ++got;
        });
        if (got != frames) {
            state.SkipWithError("frames lost");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}

BENCHMARK(BM_bulk_hand_over_and_pump)->Name("bulk_channel/hand_over_and_pump/32KiB_pieces")->Unit(benchmark::kMillisecond);

}  // namespace
