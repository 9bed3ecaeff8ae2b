#include "ktstr/common/scheduler_fate.hpp"

#include <array>
#include <charconv>
#include <utility>

#include "ktstr/common/scx_exit_kind.hpp"
#include "ktstr/common/utf8.hpp"

namespace ktstr {
namespace {

constexpr std::string_view text_separator = " | ";

constexpr std::array<std::string_view, 4> fate_names{"attached", "ejected", "exited", "never_attached"};

// A value as a token can carry it: no byte that could end the token or
// break a line, valid UTF-8, bounded.
std::string safe_value(std::string_view v) {
    std::string s = valid_utf8(v);
    for (char& c : s)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            c = '_';
    s.resize(utf8_prefix_length(s, max_fate_value));
    return s;
}

template <typename T>
void put_number(std::string& out, std::string_view key, const std::optional<T>& v) {
    if (!v)
        return;
    out += ' ';
    out += key;
    out += '=';
    out += std::to_string(*v);
}

void put_text(std::string& out, std::string_view key, const std::string& v) {
    if (v.empty())
        return;
    out += ' ';
    out += key;
    out += '=';
    out += safe_value(v);
}

template <typename T>
bool parse_number(std::string_view v, std::optional<T>& out) {
    T n{};
    // from_chars takes no '+' and no leading space; a '-' only for signed T.
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n, 10);
    if (v.empty() || ec != std::errc{} || p != v.data() + v.size())
        return false;
    out = n;
    return true;
}

}  // namespace

std::string_view fate_name(SchedulerFate::Kind k) noexcept { return fate_names[static_cast<std::size_t>(k)]; }

std::optional<SchedulerFate::Kind> fate_from_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < fate_names.size(); ++i)
        if (fate_names[i] == name)
            return static_cast<SchedulerFate::Kind>(i);
    return std::nullopt;
}

std::string format_fate(const SchedulerFate& f) {
    std::string out = "fate=";
    out += fate_name(f.fate);
    put_number(out, "kind", f.kind);
    put_number(out, "status", f.status);
    put_number(out, "signal", f.signal);
    put_text(out, "program", f.program);
    put_text(out, "ops", f.ops);
    put_text(out, "state", f.state);
    put_number(out, "attached_ms", f.attached_ms);
    put_number(out, "after_ms", f.after_ms);
    put_number(out, "timeout_ms", f.timeout_ms);
    // Ten numbers and three values of at most max_fate_value bytes stay
    // far below max_fate_record, so only the text needs cutting.
    static_assert(max_fate_record > 3 * (max_fate_value + 16) + 10 * 32 + text_separator.size());
    if (!f.text.empty()) {
        const std::string text = valid_utf8(f.text);
        out += text_separator;
        out.append(text, 0, utf8_prefix_length(text, max_fate_record - out.size()));
    }
    return out;
}

std::optional<SchedulerFate> parse_fate(std::string_view reason) {
    if (reason.size() > max_fate_record || !reason.starts_with("fate="))
        return std::nullopt;
    std::string_view head = reason;
    std::string_view text;
    if (const auto sep = reason.find(text_separator); sep != std::string_view::npos) {
        head = reason.substr(0, sep);
        text = reason.substr(sep + text_separator.size());
    }

    SchedulerFate f;
    bool seen_fate = false, seen_state = false, seen_ops = false, seen_program = false;
    while (true) {
        const auto space = head.find(' ');
        const std::string_view token = head.substr(0, space);
        const auto eq = token.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return std::nullopt;  // also the empty token of a double or trailing space
        const std::string_view key = token.substr(0, eq);
        const std::string_view value = token.substr(eq + 1);
        auto once = [](bool& seen) { return !std::exchange(seen, true); };
        bool ok = true;
        if (key == "fate") {
            const auto k = fate_from_name(value);
            ok = once(seen_fate) && k.has_value();
            if (k)
                f.fate = *k;
        } else if (key == "kind") {
            ok = !f.kind && parse_number(value, f.kind);
        } else if (key == "status") {
            ok = !f.status && parse_number(value, f.status);
        } else if (key == "signal") {
            ok = !f.signal && parse_number(value, f.signal);
        } else if (key == "attached_ms") {
            ok = !f.attached_ms && parse_number(value, f.attached_ms);
        } else if (key == "after_ms") {
            ok = !f.after_ms && parse_number(value, f.after_ms);
        } else if (key == "timeout_ms") {
            ok = !f.timeout_ms && parse_number(value, f.timeout_ms);
        } else if (key == "state") {
            ok = once(seen_state);
            f.state = value;
        } else if (key == "ops") {
            ok = once(seen_ops);
            f.ops = value;
        } else if (key == "program") {
            ok = once(seen_program);
            f.program = value;
        }
        // Any other key: a newer guest's; skipped.
        if (!ok)
            return std::nullopt;
        if (space == std::string_view::npos)
            break;
        head.remove_prefix(space + 1);
    }
    f.text = text;
    return f;
}

std::int32_t sched_exit_code(const SchedulerFate& f) noexcept {
    using K = SchedulerFate::Kind;
    switch (f.fate) {
    case K::attached:
        return 0;
    case K::ejected:
        return f.kind.value_or(scx::exit_error);
    case K::exited:
    case K::never_attached:
        if (f.signal)
            return 128 + *f.signal;
        if (f.status)
            return *f.status;
        return -1;
    }
    return -1;
}

LifecyclePhase lifecycle_phase_of(SchedulerFate::Kind k) noexcept {
    switch (k) {
    case SchedulerFate::Kind::attached:
        return LifecyclePhase::PayloadStarting;
    case SchedulerFate::Kind::ejected:
    case SchedulerFate::Kind::exited:
        return LifecyclePhase::SchedulerDied;
    case SchedulerFate::Kind::never_attached:
        return LifecyclePhase::SchedulerNotAttached;
    }
    return LifecyclePhase::SchedulerDied;
}

}  // namespace ktstr
