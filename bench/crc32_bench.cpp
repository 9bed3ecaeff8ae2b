// CRC-32 throughput of every implementation, and of zlib's crc32 as the
// baseline, on a 64-byte buffer (a small frame: call overhead and setup
// dominate) and a 1 MiB one (a bulk payload: the folding loop dominates).
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>

#include "ktstr/common/crc32.hpp"

namespace {

using crc_fn = std::uint32_t (*)(std::uint32_t, ktstr::byte_view) noexcept;

// `size` random bytes starting at a 64-byte boundary, so every
// implementation sees the same alignment.
class Buffer {
public:
    explicit Buffer(std::size_t size) : storage_(size + 64) {
        std::mt19937 rng(7);
        for (auto& b : storage_)
            b = static_cast<std::uint8_t>(rng() >> 24);
        const auto addr = reinterpret_cast<std::uintptr_t>(storage_.data());
        view_ = ktstr::byte_view(storage_.data() + (64 - addr % 64) % 64, size);
    }
    ktstr::byte_view view() const noexcept { return view_; }

private:
    ktstr::byte_buffer storage_;
    ktstr::byte_view view_;
};

void run(benchmark::State& state, crc_fn fn) {
    const Buffer buf(static_cast<std::size_t>(state.range(0)));
    const ktstr::byte_view v = buf.view();
    for (auto _ : state) {
        std::uint32_t c = fn(0, v);
        benchmark::DoNotOptimize(c);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

std::uint32_t dispatched(std::uint32_t crc, ktstr::byte_view data) noexcept { return ktstr::crc32_update(crc, data); }

std::uint32_t zlib(std::uint32_t crc, ktstr::byte_view data) noexcept {
    return static_cast<std::uint32_t>(::crc32(crc, data.data(), static_cast<uInt>(data.size())));
}

// The carry-less-multiply kernels are registered only where the CPU has
// them; calling them elsewhere would fault.
const bool registered = [] {
    struct Entry {
        const char* name;
        crc_fn fn;
        bool available;
    };
    const Entry entries[] = {
        {"crc32/boost_reference", ktstr::crc32_impl::boost_reference, true},
        {"crc32/slicing_by_8", ktstr::crc32_impl::slicing_by_8, true},
        {"crc32/pclmul", ktstr::crc32_impl::pclmul, ktstr::crc32_impl::has_pclmul()},
        {"crc32/vpclmul", ktstr::crc32_impl::vpclmul, ktstr::crc32_impl::has_vpclmul()},
        {"crc32/vpclmul256", ktstr::crc32_impl::vpclmul256, ktstr::crc32_impl::has_vpclmul256()},
        {"crc32/dispatched", dispatched, true},
        {"crc32/zlib", zlib, true},
    };
    for (const auto& e : entries)
        if (e.available)
            benchmark::RegisterBenchmark(e.name, run, e.fn)->Arg(64)->Arg(1 << 20);
    benchmark::AddCustomContext("crc32_dispatch", std::string(ktstr::crc32_impl::active_name()));
    return true;
}();

}  // namespace
