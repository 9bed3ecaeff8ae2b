// TLV reassembly throughput: a stream of frames arriving in 4 KiB chunks
// (a bulk-port read), every complete frame taken out after each chunk.
// Small payloads measure per-frame overhead; 64 KiB payloads measure the
// copy and the CRC.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/tlv_assembler.hpp"

namespace {

constexpr std::size_t chunk_size = 4096;
constexpr std::size_t stream_target = 4u << 20;  // about 4 MiB of frames per pass

ktstr::byte_buffer make_stream(std::size_t payload_size, std::size_t& frames) {
    std::mt19937 rng(11);
    ktstr::byte_buffer payload(payload_size);
    ktstr::byte_buffer stream;
    frames = 0;
    while (stream.size() < stream_target) {
        for (auto& b : payload)
            b = static_cast<std::uint8_t>(rng() >> 24);
        const auto f = ktstr::encode_frame(static_cast<std::uint32_t>(1 + frames % 8), payload);
        stream.insert(stream.end(), f.begin(), f.end());
        ++frames;
    }
    return stream;
}

void BM_tlv_assembler(benchmark::State& state) {
    const auto payload_size = static_cast<std::size_t>(state.range(0));
    std::size_t frames = 0;
    const ktstr::byte_buffer stream = make_stream(payload_size, frames);
    for (auto _ : state) {
        ktstr::TlvAssembler a;
        std::size_t got = 0;
        for (std::size_t off = 0; off < stream.size(); off += chunk_size) {
            a.feed(ktstr::byte_view(stream.data() + off, std::min(chunk_size, stream.size() - off)));
            while (auto f = a.next()) {
                benchmark::DoNotOptimize(f->crc_ok);
                ++got;
            }
        }
        if (got != frames || a.stats().crc_errors != 0) {
            state.SkipWithError("assembler lost frames or saw CRC errors");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frames));
}

BENCHMARK(BM_tlv_assembler)->Name("tlv_assembler/4KiB_chunks/payload")->Arg(64)->Arg(64 << 10)->Unit(benchmark::kMillisecond);

}  // namespace
