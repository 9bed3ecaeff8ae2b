// Wake latencies of a worker in bounded memory whatever the run's length:
// a log-linear histogram (64 buckets per power of two), so two workers'
// histograms merge exactly into their group's. Values below 128 ns are kept
// exactly; above, a percentile is the top of its bucket, at most 1/64 above
// the true value (never below it), and never above the exact maximum.
// Values from 2^41 ns (about 37 minutes) up share the last bucket.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace ktstr::guest {

class LatencyHistogram {
public:
    static constexpr std::size_t bucket_count = 2304;

    // A negative latency (a clock read before the intended time) counts as 0.
    void record(std::chrono::nanoseconds latency);
    void merge(const LatencyHistogram& other);

    std::uint64_t count() const noexcept { return count_; }
    std::chrono::nanoseconds max() const noexcept { return std::chrono::nanoseconds(max_); }
    // Nearest rank: the value at rank ceil(q * count) (at least 1) in sorted
    // order, as its bucket's top clamped to max(); 0 when empty. q in (0, 1].
    std::chrono::nanoseconds percentile(double q) const noexcept;

    // Exposed for tests: the bucket of a value and the largest value in a bucket.
    static std::size_t bucket_of(std::uint64_t ns) noexcept;
    static std::uint64_t bucket_top(std::size_t bucket) noexcept;

private:
    std::vector<std::uint64_t> buckets_;  // allocated on the first record: kinds without wakes pay nothing
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace ktstr::guest
