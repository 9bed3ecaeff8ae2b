#include "ktstr/host/run_recorder.hpp"

#include <algorithm>

#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/common/structured.hpp"

namespace ktstr::host {

// kept_record_cost stands for the object each kept record lives in.
static_assert(sizeof(LifecycleStage) <= kept_record_cost);
static_assert(sizeof(std::string) <= kept_record_cost);
static_assert(sizeof(TestResult) <= kept_record_cost);
static_assert(sizeof(TestDetail) <= kept_record_cost);
static_assert(sizeof(PayloadMetrics) <= kept_metric_record_cost);
static_assert(sizeof(Metric) <= kept_metric_record_cost);

std::size_t RunRecorder::budget_left() const noexcept {
    const auto kept = result_.kept.kept_bytes;
    return kept < limits_.max_kept_bytes ? limits_.max_kept_bytes - static_cast<std::size_t>(kept) : 0;
}

bool RunRecorder::refuse_oversize(byte_view payload, std::size_t limit, std::uint64_t& oversize_counter) noexcept {
    if (payload.size() <= limit)
        return false;
    ++oversize_counter;
    result_.kept.dropped_bytes += payload.size();
    ++result_.records_truncated;
    return true;
}

bool RunRecorder::charge_record(std::size_t cost) noexcept {
    if (budget_left() < cost)
        return false;
    result_.kept.kept_bytes += cost;
    return true;
}

std::string RunRecorder::keep_text(std::string_view text, std::size_t limit) {
    const std::size_t left = budget_left();
    const std::size_t n = std::min({text.size(), limit, left});
    if (n < text.size()) {
        ++result_.kept.cut_texts;
        result_.kept.dropped_bytes += text.size() - n;
        if (left < std::min(text.size(), limit))
            ++result_.kept.over_budget;
        ++result_.records_truncated;
    }
    result_.kept.kept_bytes += n;
    // A new string of exactly n bytes: resizing the original would keep
    // its whole capacity alive (a cut 16 MiB text would still hold 16 MiB).
    return std::string(text.substr(0, n));
}

void RunRecorder::dropped(std::uint64_t& kind_counter, std::size_t text_bytes, bool over_budget) noexcept {
    ++kind_counter;
    result_.kept.dropped_bytes += text_bytes;
    if (over_budget)
        ++result_.kept.over_budget;
    ++result_.records_truncated;
}

void RunRecorder::record(Channel channel, const Frame& frame, Clock::time_point now) {
    ++result_.frames;
    result_.last_frame_time = now - start_;
    const auto info = find_msg_type(frame.msg_type());
    // Unknown types share one counter: a guest inventing types cannot
    // grow the map.
    const std::string tag = info ? std::string(info->tag) : std::string("unknown");
    ++result_.message_counts[tag];
    if (channel == Channel::shm)
        ++result_.shm_message_counts[tag];
    if (!frame.crc_ok) {
        ++result_.crc_errors;
        return;  // nothing is decoded from a corrupted payload
    }
    record_payload(channel, frame, now);
}

void RunRecorder::record_payload(Channel channel, const Frame& frame, Clock::time_point now) {
    const byte_view p = frame.payload;
    auto invalid = [&] { ++result_.invalid_payloads; };

    switch (static_cast<MsgType>(frame.msg_type())) {
    case MsgType::Exit:
        if (auto code = decode_i32(p)) {
            result_.guest_exit = *code;
            result_.exit_code = *code;
        } else {
            invalid();
        }
        break;
    case MsgType::ExecExit:
        if (auto code = decode_i32(p)) {
            result_.exec_exit = *code;
            if (!result_.guest_exit)
                result_.exit_code = *code;
        } else {
            invalid();
        }
        break;
    case MsgType::SchedExit:
        if (auto code = decode_i32(p))
            result_.sched_exit = *code;
        else
            invalid();
        break;
    case MsgType::SysRdy:
        if (!p.empty())
            invalid();
        else if (!result_.boot_time)
            result_.boot_time = now - start_;
        break;
    case MsgType::Lifecycle:
        if (auto l = decode_lifecycle(p)) {
            note_scheduler(l->phase, l->reason, now - start_);
            if (result_.lifecycle.size() >= limits_.max_lifecycle_stages)
                dropped(result_.kept.dropped_lifecycle, l->reason.size(), false);
            else if (!charge_record())
                dropped(result_.kept.dropped_lifecycle, l->reason.size(), true);
            else
                result_.lifecycle.push_back(
                    {l->phase, keep_text(l->reason, limits_.max_text_bytes), now - start_, channel});
        } else {
            invalid();
        }
        break;
    case MsgType::KernAddrs:
        if (auto k = decode_kern_addrs(p))
            result_.kern_addrs = *k;
        else
            invalid();
        break;
    case MsgType::Crash:
        if (result_.crashes.size() >= limits_.max_crashes)
            dropped(result_.kept.dropped_crashes, p.size(), false);
        else if (!charge_record())
            dropped(result_.kept.dropped_crashes, p.size(), true);
        else
            result_.crashes.push_back(keep_text(
                std::string_view(reinterpret_cast<const char*>(p.data()), p.size()), limits_.max_crash_bytes));
        break;
    case MsgType::TestResult:
        record_test(p);
        break;
    case MsgType::PayloadMetrics:
        record_payload_metrics(p);
        break;
    default:
        break;  // counted above; the message log has the bytes
    }
}

void RunRecorder::record_test(byte_view p) {
    // Bounded before anything is decoded: nlohmann-json's tree of a TEST
    // payload takes some 40 times the payload's size (a 15 MiB one peaked
    // at 621 MiB and took 1.8 s on the loop thread), all of it before the
    // per-test limits below could cut anything.
    if (refuse_oversize(p, limits_.max_test_payload_bytes, result_.kept.oversize_tests))
        return;
    auto t = decode_test_result(p);  // refuses JSON nested too deep before parsing
    if (!t) {
        ++result_.invalid_payloads;
        return;
    }
    ++(t->passed ? result_.tests_passed : result_.tests_failed);
    auto text_of = [](const TestDetail& d) { return d.kind.size() + d.message.size(); };
    auto all_text = [&] {
        std::size_t n = 0;
        for (const auto& d : t->details)
            n += text_of(d);
        return n;
    };
    if (result_.tests.size() >= limits_.max_tests) {
        dropped(result_.kept.dropped_tests, all_text(), false);
        return;
    }
    if (!charge_record()) {
        dropped(result_.kept.dropped_tests, all_text(), true);
        return;
    }
    TestResult kept{t->passed, {}};
    kept.details.reserve(std::min(t->details.size(), limits_.max_test_details));
    for (const auto& d : t->details) {
        if (kept.details.size() >= limits_.max_test_details)
            dropped(result_.kept.dropped_test_details, text_of(d), false);
        else if (!charge_record())
            dropped(result_.kept.dropped_test_details, text_of(d), true);
        else
            kept.details.push_back(
                {keep_text(d.kind, limits_.max_text_bytes), keep_text(d.message, limits_.max_text_bytes)});
    }
    // Details charged one by one: drop the room reserved for the ones the
    // budget refused.
    if (kept.details.size() < kept.details.capacity())
        kept.details.shrink_to_fit();
    result_.tests.push_back(std::move(kept));
}

void RunRecorder::record_payload_metrics(byte_view p) {
    // Bounded before decoding, for the reason TEST payloads are.
    if (refuse_oversize(p, limits_.max_payload_metrics_bytes, result_.kept.oversize_payload_metrics))
        return;
    auto m = decode_payload_metrics(p);  // refuses JSON nested too deep before parsing
    if (!m) {
        ++result_.invalid_payloads;
        return;
    }
    auto text_of = [](const Metric& x) { return x.name.size() + x.unit.size(); };
    auto all_text = [&] {
        std::size_t n = m->payload.size();
        for (const auto& x : m->metrics)
            n += text_of(x);
        return n;
    };
    if (result_.payload_metrics.size() >= limits_.max_payload_metrics) {
        dropped(result_.kept.dropped_payload_metrics, all_text(), false);
        return;
    }
    if (!charge_record(kept_metric_record_cost)) {
        dropped(result_.kept.dropped_payload_metrics, all_text(), true);
        return;
    }
    PayloadMetrics kept{m->payload_index, keep_text(m->payload, limits_.max_text_bytes), m->exit_code, {}};
    kept.metrics.reserve(std::min(m->metrics.size(), limits_.max_metrics_per_payload));
    for (const auto& x : m->metrics) {
        if (kept.metrics.size() >= limits_.max_metrics_per_payload)
            dropped(result_.kept.dropped_metrics, text_of(x), false);
        else if (!charge_record(kept_metric_record_cost))
            dropped(result_.kept.dropped_metrics, text_of(x), true);
        else
            kept.metrics.push_back(
                {keep_text(x.name, limits_.max_text_bytes), x.value, keep_text(x.unit, limits_.max_text_bytes)});
    }
    if (kept.metrics.size() < kept.metrics.capacity())
        kept.metrics.shrink_to_fit();
    result_.payload_metrics.push_back(std::move(kept));
}

void RunRecorder::note_scheduler(LifecyclePhase phase, std::string_view reason, std::chrono::nanoseconds at) {
    auto& s = result_.scheduler;
    if (s.end)
        return;  // the first end is the one that counts
    auto f = parse_fate(reason);  // bounded by max_fate_record
    if (!f || lifecycle_phase_of(f->fate) != phase)
        return;
    if (f->fate == SchedulerFate::Kind::attached) {
        if (!s.attached) {
            s.attached = std::move(*f);
            s.attached_at = at;
        }
        return;
    }
    s.end = std::move(*f);
    s.end_at = at;
}

}  // namespace ktstr::host
