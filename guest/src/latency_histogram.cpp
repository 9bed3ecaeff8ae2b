#include "ktstr/guest/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ktstr::guest {
namespace {

constexpr unsigned sub_bits = 6;                              // 64 buckets per power of two
constexpr std::uint64_t exact_below = 2u << sub_bits;         // 128: one bucket per value
constexpr std::uint64_t clamp_at = (std::uint64_t{1} << 41) - 1;

}  // namespace

std::size_t LatencyHistogram::bucket_of(std::uint64_t ns) noexcept {
    ns = std::min(ns, clamp_at);
    if (ns < exact_below)
        return static_cast<std::size_t>(ns);
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(ns));  // >= 7
    const unsigned shift = e - sub_bits;
    // (e - 6) * 64 + the top 7 bits (64..127): continues the exact range.
    return static_cast<std::size_t>(shift) * (1u << sub_bits) + static_cast<std::size_t>(ns >> shift);
}

std::uint64_t LatencyHistogram::bucket_top(std::size_t bucket) noexcept {
    if (bucket < exact_below)
        return bucket;
    const std::size_t shift = bucket / (1u << sub_bits) - 1;
    const std::uint64_t top_bits = bucket % (1u << sub_bits) + (1u << sub_bits);
    return ((top_bits + 1) << shift) - 1;
}

void LatencyHistogram::record(std::chrono::nanoseconds latency) {
    if (buckets_.empty())
        buckets_.assign(bucket_count, 0);
    const std::uint64_t ns = latency.count() > 0 ? static_cast<std::uint64_t>(latency.count()) : 0;
    ++buckets_[bucket_of(ns)];
    ++count_;
    max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    if (other.count_ == 0)
        return;
    if (buckets_.empty())
        buckets_.assign(bucket_count, 0);
    for (std::size_t i = 0; i < bucket_count; ++i)
        buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
}

std::chrono::nanoseconds LatencyHistogram::percentile(double q) const noexcept {
    if (count_ == 0)
        return std::chrono::nanoseconds(0);
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += buckets_[i];
        if (seen >= rank)
            return std::chrono::nanoseconds(std::min(bucket_top(i), max_));
    }
    return std::chrono::nanoseconds(max_);
}

}  // namespace ktstr::guest
