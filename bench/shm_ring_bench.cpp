// SHM ring round trip on an ordinary-memory region (SpanRegion): write N
// small messages, drain them all (consuming), repeat. Reported as
// messages per second through both ends.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "ktstr/common/shm_ring.hpp"

namespace {

constexpr std::size_t region_size = ktstr::shm::header_size + (1u << 20);
constexpr std::size_t payload_size = 64;

void BM_shm_ring_write_drain(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    ktstr::byte_buffer memory(region_size);
    const ktstr::SpanRegion region(memory);
    ktstr::ring_init(region);
    ktstr::byte_buffer payload(payload_size);
    for (std::size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<std::uint8_t>(i);

    for (auto _ : state) {
        for (std::size_t i = 0; i < batch; ++i)
            if (ktstr::ring_write(region, 1, payload) != ktstr::RingWriteStatus::written) {
                state.SkipWithError("ring_write did not write");
                return;
            }
        auto r = ktstr::ring_drain(region, ktstr::DrainMode::consume);
        if (r.status != ktstr::RingDrainStatus::ok || r.frames.size() != batch) {
            state.SkipWithError("ring_drain did not return the batch");
            return;
        }
        benchmark::DoNotOptimize(r.frames.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch * payload_size));
}

BENCHMARK(BM_shm_ring_write_drain)->Name("shm_ring/write_drain/64B_messages")->Arg(1)->Arg(64)->Arg(1024);

}  // namespace
