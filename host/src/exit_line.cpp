#include "ktstr/host/exit_line.hpp"

#include <charconv>

namespace ktstr::host {

std::optional<int> parse_exit_line(std::string_view line) noexcept {
    constexpr std::string_view prefix = "KTSTR_EXIT=";
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    if (!line.starts_with(prefix))
        return std::nullopt;
    line.remove_prefix(prefix.size());
    if (line.empty() || line.size() > 3)
        return std::nullopt;
    int v = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
    if (ec != std::errc() || end != line.data() + line.size() || v < 0 || v > 255)
        return std::nullopt;
    return v;
}

void ExitLineScanner::line_done() {
    if (auto code = parse_exit_line(line_); code && !overlong_)
        exit_ = code;
    else if (on_other_)
        on_other_(line_);
    line_.clear();
    overlong_ = false;
}

void ExitLineScanner::feed(byte_view bytes) {
    for (auto b : bytes) {
        if (b == '\n') {
            line_done();
        } else if (line_.size() < max_line) {
            line_.push_back(static_cast<char>(b));
        } else {
            overlong_ = true;
        }
    }
}

void ExitLineScanner::finish() {
    if (!line_.empty())
        line_done();
}

}  // namespace ktstr::host
