// The starvation rule, over a worker's progress samples (the coordinator
// reads each worker's progress counter every sample interval): the counter
// only grows, so two samples with the same value mean the worker made no
// progress between them. The longest stall is the longest time between two
// such samples; a worker is starved when it is at least the window. It is a
// lower bound of the true stall (the counter may have stopped just after the
// sample before), so sparse samples can miss a stall but never invent one.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

namespace ktstr::guest {

struct ProgressSample {
    std::chrono::nanoseconds at{0};  // after the workers were released
    std::uint64_t progress = 0;
    friend bool operator==(const ProgressSample&, const ProgressSample&) = default;
};

struct StarvationVerdict {
    bool starved = false;                     // longest_stall >= window
    std::chrono::nanoseconds longest_stall{0};
    std::chrono::nanoseconds stall_start{0};  // the first sample of the longest stall
};

// `samples` in time order. Fewer than two samples: no stall. Throws
// std::invalid_argument for a window that is not positive.
StarvationVerdict check_starvation(std::span<const ProgressSample> samples, std::chrono::nanoseconds window);

}  // namespace ktstr::guest
