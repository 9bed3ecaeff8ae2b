// The live progress of a kernel build on stderr. On a terminal one line is
// rewritten in place (\r) about once a second; otherwise (a log, CI) a line
// is printed when a phase starts and then at most every 30 s, so a build
// of minutes leaves tens of lines, not thousands.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "kernel_build/build_progress.hpp"

namespace ktstr::vmm::kernel_build {

class ProgressLine {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds log_interval{30};

    // `out` null: prints nothing. Elapsed time counts from `start`.
    ProgressLine(std::FILE* out, Clock::time_point start);
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // The current phase and what it is at ("5321 objects", "45%").
    void update(Phase phase, std::string detail);
    // Shows the time going on while nothing else changes (call ~1/s).
    void tick() { show(false); }
    // A line of its own (a message, the end): ends the rewritten line first.
    void print_line(std::string_view line);
    // Ends the rewritten line, if any.
    void finish();

private:
    void show(bool phase_started);

    std::FILE* out_;
    bool tty_;
    Clock::time_point start_;
    Clock::time_point last_shown_{};
    Phase phase_ = Phase::source;
    std::string detail_;
    bool line_open_ = false;  // a \r line is on the terminal
    bool started_ = false;
};

}  // namespace ktstr::vmm::kernel_build
