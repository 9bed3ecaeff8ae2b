#include "ktstr/host/run_recorder.hpp"

#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/structured.hpp"
#include "ktstr/host/json_nesting.hpp"

namespace ktstr::host {

std::string RunRecorder::bounded(std::string text, std::size_t limit) {
    if (text.size() > limit) {
        text.resize(limit);
        ++result_.records_truncated;
    }
    return text;
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
            if (result_.lifecycle.size() < limits_.max_lifecycle_stages)
                result_.lifecycle.push_back(
                    {l->phase, bounded(std::move(l->reason), limits_.max_text_bytes), now - start_, channel});
            else
                ++result_.records_truncated;
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
        if (result_.crashes.size() < limits_.max_crashes)
            result_.crashes.push_back(bounded(std::string(p.begin(), p.end()), limits_.max_crash_bytes));
        else
            ++result_.records_truncated;
        break;
    case MsgType::TestResult: {
        std::optional<TestResult> t;
        if (json_nesting_within(p))
            t = decode_test_result(p);
        if (!t) {
            invalid();
            break;
        }
        ++(t->passed ? result_.tests_passed : result_.tests_failed);
        if (result_.tests.size() >= limits_.max_tests) {
            ++result_.records_truncated;
            break;
        }
        if (t->details.size() > limits_.max_test_details) {
            t->details.resize(limits_.max_test_details);
            ++result_.records_truncated;
        }
        for (auto& d : t->details) {
            d.kind = bounded(std::move(d.kind), limits_.max_text_bytes);
            d.message = bounded(std::move(d.message), limits_.max_text_bytes);
        }
        result_.tests.push_back(std::move(*t));
        break;
    }
    default:
        break;  // counted above; the message log has the bytes
    }
}

}  // namespace ktstr::host
