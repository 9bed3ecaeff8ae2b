#include "run/console_watch.hpp"

#include <algorithm>
#include <string>

#include <unistd.h>

#include <ktstr/common/fd_write.hpp>

namespace ktstr::vmm::run {

ConsoleWatch::ConsoleWatch(UniqueFd log, bool echo, std::function<void(std::string_view)> on_panic,
                           std::uint64_t max_log_bytes)
    : log_(std::move(log)), echo_(echo), on_panic_(std::move(on_panic)), max_log_bytes_(max_log_bytes) {}

void ConsoleWatch::feed(byte_view bytes) {
    std::optional<std::string> new_panic;
    {
        std::lock_guard lock(mutex_);
        if (log_ && !log_failed_ && !finished_) {
            const auto room = static_cast<std::size_t>(std::min<std::uint64_t>(max_log_bytes_ - log_bytes_, bytes.size()));
            const auto part = bytes.first(room);
            if (!part.empty()) {
                if (!write_all(log_.get(), part))
                    log_failed_ = true;
                log_bytes_ += part.size();
                log_at_line_start_ = part.back() == '\n';
            }
            log_left_out_ += bytes.size() - room;
        }
        if (echo_)
            write_all(STDERR_FILENO, bytes);  // best effort: a console echo never stops the VM
        const bool had_panic = panic_.has_value();
        for (std::uint8_t b : bytes) {
            if (b == '\n')
                line_done();
            else if (b != '\r' && line_.size() < max_line)
                line_.push_back(static_cast<char>(b));
        }
        // A panic line is recognised before its newline arrives: the reset
        // may follow at once.
        if (!panic_ && line_.ends_with(kernel_panic_marker.back()))
            if (auto pos = line_.find(kernel_panic_marker); pos != std::string::npos)
                panic_ = line_.substr(pos);
        if (!had_panic && panic_)
            new_panic = panic_;
    }
    if (new_panic && on_panic_)
        on_panic_(*new_panic);
}

void ConsoleWatch::line_done() {
    if (!panic_) {
        if (auto pos = line_.find(kernel_panic_marker); pos != std::string::npos)
            panic_ = line_.substr(pos);
    } else if (panic_->size() < line_.size() && line_.find(*panic_) != std::string::npos) {
        // The line grew after the marker was first seen: keep all of it.
        panic_ = line_.substr(line_.find(kernel_panic_marker));
    }
    lines_.push_back(std::move(line_));
    line_.clear();
    if (lines_.size() > kept_lines)
        lines_.pop_front();
}

void ConsoleWatch::finish() {
    std::lock_guard lock(mutex_);
    if (finished_)
        return;
    finished_ = true;
    if (!log_ || log_failed_ || log_left_out_ == 0)
        return;
    const std::string note = std::string(log_at_line_start_ ? "" : "\n") + "ktstr-vmm: console log cap of " +
                             std::to_string(max_log_bytes_) + " bytes reached; " + std::to_string(log_left_out_) +
                             " bytes left out\n";
    if (!write_all(log_.get(), as_bytes(note)))
        log_failed_ = true;
}

std::uint64_t ConsoleWatch::log_left_out() const {
    std::lock_guard lock(mutex_);
    return log_left_out_;
}

std::optional<std::string> ConsoleWatch::panic_line() const {
    std::lock_guard lock(mutex_);
    return panic_;
}

std::vector<std::string> ConsoleWatch::last_lines(std::size_t count) const {
    std::lock_guard lock(mutex_);
    const std::size_t n = std::min(count, lines_.size());
    return {lines_.end() - static_cast<std::ptrdiff_t>(n), lines_.end()};
}

}  // namespace ktstr::vmm::run
