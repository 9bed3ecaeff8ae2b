#include "ktstr/guest/sched_ext_log.hpp"

#include "ktstr/common/scx_exit_kind.hpp"

namespace ktstr::guest {
namespace {

constexpr std::string_view prefix = "sched_ext: ";
constexpr std::string_view disable_prefix = "sched_ext: BPF scheduler \"";
constexpr std::string_view disable_middle = "\" disabled (";

}  // namespace

std::string SchedExtDisable::describe() const {
    if (message.empty())
        return reason;
    return reason + " (" + message + ")";
}

std::optional<SchedExtDisable> parse_disable_line(std::string_view text) {
    // A record may end in a newline the kernel kept; it is no part of REASON.
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    if (!text.starts_with(disable_prefix) || !text.ends_with(')'))
        return std::nullopt;
    text.remove_prefix(disable_prefix.size());
    // NAME is a BPF object name (no quotes), so the first `" disabled (`
    // ends it; REASON runs to the final ')'.
    const auto mid = text.find(disable_middle);
    if (mid == std::string_view::npos)
        return std::nullopt;
    SchedExtDisable d;
    d.ops = text.substr(0, mid);
    d.reason = text.substr(mid + disable_middle.size(), text.size() - mid - disable_middle.size() - 1);
    const auto kind = scx::kind_of_reason(d.reason);
    d.known_reason = kind.has_value();
    d.kind = kind.value_or(scx::exit_error);
    return d;
}

std::optional<std::string_view> parse_disable_message(std::string_view text, std::string_view ops) {
    if (!text.starts_with(prefix))
        return std::nullopt;
    text.remove_prefix(prefix.size());
    if (!text.starts_with(ops) || text.substr(ops.size()).substr(0, 2) != ": ")
        return std::nullopt;
    text.remove_prefix(ops.size() + 2);
    while (!text.empty() && text.back() == '\n')
        text.remove_suffix(1);
    return text;
}

void SchedExtLogScanner::feed(const KmsgRecord& r) {
    if (!disable_) {
        disable_ = parse_disable_line(r.text);
        return;
    }
    if (message_done_)
        return;
    if (parse_disable_line(r.text)) {
        // A second disable before any message: the first had none.
        message_done_ = true;
        return;
    }
    if (auto m = parse_disable_message(r.text, disable_->ops)) {
        disable_->message = std::string(*m);
        message_done_ = true;
    }
}

}  // namespace ktstr::guest
