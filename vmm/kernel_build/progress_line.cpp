#include "kernel_build/progress_line.hpp"

#include <unistd.h>

#include <fmt/core.h>

namespace ktstr::vmm::kernel_build {

ProgressLine::ProgressLine(std::FILE* out, Clock::time_point start)
    : out_(out), tty_(out && ::isatty(::fileno(out)) == 1), start_(start) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(Phase phase, std::string detail) {
    const bool new_phase = !started_ || phase != phase_;
    started_ = true;
    phase_ = phase;
    detail_ = std::move(detail);
    show(new_phase);
}

void ProgressLine::show(bool phase_started) {
    if (!out_ || !started_)
        return;
    const auto now = Clock::now();
    // A terminal gets at most ~5 rewrites a second, a log a line per
    // interval: make prints far more lines, so the throttle comes before
    // the text is made.
    const auto interval = tty_ ? Clock::duration(std::chrono::milliseconds(200)) : Clock::duration(log_interval);
    if (!phase_started && now - last_shown_ < interval)
        return;
    const auto text = progress_text(phase_, detail_, std::chrono::duration<double>(now - start_).count());
    if (tty_) {
        fmt::print(out_, "\r{}\033[K", text);
        line_open_ = true;
    } else {
        fmt::print(out_, "{}\n", text);
    }
    std::fflush(out_);
    last_shown_ = now;
}

void ProgressLine::print_line(std::string_view line) {
    if (!out_)
        return;
    finish();
    fmt::print(out_, "{}\n", line);
    std::fflush(out_);
}

void ProgressLine::finish() {
    if (out_ && line_open_) {
        fmt::print(out_, "\n");
        std::fflush(out_);
    }
    line_open_ = false;
}

}  // namespace ktstr::vmm::kernel_build
