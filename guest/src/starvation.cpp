#include "ktstr/guest/starvation.hpp"

#include <stdexcept>

namespace ktstr::guest {

StarvationVerdict check_starvation(std::span<const ProgressSample> samples, std::chrono::nanoseconds window) {
    if (window.count() <= 0)
        throw std::invalid_argument("starvation window must be positive, got " + std::to_string(window.count()) +
                                    " ns");
    StarvationVerdict v;
    std::size_t run_start = 0;  // the first sample with the current value
    for (std::size_t i = 1; i < samples.size(); ++i) {
        if (samples[i].progress != samples[run_start].progress) {
            run_start = i;
            continue;
        }
        const auto stall = samples[i].at - samples[run_start].at;
        if (stall > v.longest_stall) {
            v.longest_stall = stall;
            v.stall_start = samples[run_start].at;
        }
    }
    v.starved = v.longest_stall >= window;
    return v;
}

}  // namespace ktstr::guest
