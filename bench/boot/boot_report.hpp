// The benchmark's lines: one per boot, and a summary per VMM (medians,
// minima and maxima over the boots that worked). docs/benchmarks.md
// records them as printed.
#pragma once

#include <span>
#include <string>

#include "boot_sample.hpp"

namespace ktstr::bench::boot {

// "first_port=... first_line=... exit=... status=..." for one boot.
std::string describe(const BootSample& s);

struct BootSummary {
    std::string line;          // "summary NAME n=... failed=... first_line median=..."
    double first_line_median = 0;
    double exit_median = 0;
};

// Over the boots that worked; a hung or failed boot is counted, not timed.
BootSummary summarise(const std::string& name, std::span<const BootSample> samples);

}  // namespace ktstr::bench::boot
