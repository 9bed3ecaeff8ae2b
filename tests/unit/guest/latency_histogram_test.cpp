#include <catch2/catch.hpp>

#include <chrono>

#include "ktstr/guest/latency_histogram.hpp"

using namespace ktstr::guest;
using std::chrono::nanoseconds;

TEST_CASE("latency histogram: exact percentiles below 128 ns (nearest rank)", "[guest][workload]") {
    LatencyHistogram h;
    CHECK(h.count() == 0);
    CHECK(h.percentile(0.5) == nanoseconds(0));
    for (int v = 1; v <= 100; ++v)
        h.record(nanoseconds(v));
    CHECK(h.count() == 100);
    CHECK(h.percentile(0.50) == nanoseconds(50));
    CHECK(h.percentile(0.99) == nanoseconds(99));
    CHECK(h.percentile(0.995) == nanoseconds(100));  // rank ceil(99.5) = 100
    CHECK(h.percentile(0.001) == nanoseconds(1));    // rank at least 1
    CHECK(h.max() == nanoseconds(100));
    h.record(nanoseconds(-5));  // counted as 0
    CHECK(h.percentile(0.001) == nanoseconds(0));
}

TEST_CASE("latency histogram: large values within 1/64 above, never below, never above the max",
          "[guest][workload]") {
    LatencyHistogram h;
    // 1..1000 us: the true p50 is 500 us, p99 990 us.
    for (int us = 1; us <= 1000; ++us)
        h.record(std::chrono::microseconds(us));
    const auto p50 = h.percentile(0.50).count();
    const auto p99 = h.percentile(0.99).count();
    CHECK(p50 >= 500'000);
    CHECK(p50 <= 500'000 + 500'000 / 64);
    CHECK(p99 >= 990'000);
    CHECK(p99 <= 990'000 + 990'000 / 64);
    CHECK(h.percentile(1.0) == nanoseconds(1'000'000));  // the top bucket is clamped to the exact max
    CHECK(h.max() == nanoseconds(1'000'000));
}

TEST_CASE("latency histogram: buckets are contiguous and their tops bound their values", "[guest][workload]") {
    for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 129ull, 255ull, 256ull, 1000ull, 123456789ull,
                            (1ull << 40) + 12345, (1ull << 41) - 1}) {
        const auto b = LatencyHistogram::bucket_of(v);
        CHECK(b < LatencyHistogram::bucket_count);
        CHECK(LatencyHistogram::bucket_top(b) >= v);
        if (b > 0)
            CHECK(LatencyHistogram::bucket_top(b - 1) < v);
    }
    CHECK(LatencyHistogram::bucket_of(~0ull) == LatencyHistogram::bucket_count - 1);  // clamped
}

TEST_CASE("latency histogram: merging two equals recording both", "[guest][workload]") {
    LatencyHistogram a, b, both;
    for (int i = 0; i < 50; ++i) {
        a.record(nanoseconds(10 + i));
        both.record(nanoseconds(10 + i));
    }
    for (int i = 0; i < 50; ++i) {
        b.record(std::chrono::microseconds(100 + i));
        both.record(std::chrono::microseconds(100 + i));
    }
    LatencyHistogram empty;
    a.merge(empty);
    a.merge(b);
    CHECK(a.count() == 100);
    CHECK(a.max() == both.max());
    for (double q : {0.1, 0.5, 0.51, 0.9, 0.99, 1.0})
        CHECK(a.percentile(q) == both.percentile(q));
    CHECK(a.percentile(0.5) == nanoseconds(59));  // the 50th of 100 is the last small one
}
