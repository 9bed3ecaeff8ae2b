#include "ktstr/guest/senders.hpp"

#include <algorithm>
#include <atomic>
#include <string>

#include "ktstr/common/frame.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/guest/bulk_port.hpp"
#include "ktstr/guest/kernel_cmdline.hpp"
#include "warning.hpp"

namespace ktstr::guest {
namespace {

bool send(MsgType t, byte_view payload) { return send_frame(to_u32(t), payload); }

}  // namespace

bool send_frame(std::uint32_t msg_type, byte_view payload) {
    if (!is_guest()) {
        static std::atomic<bool> warned{false};
        warn_once(warned, "guest-only sender called outside a ktstr guest (no KTSTR_GUEST=1 on the kernel "
                          "command line; first type " + tag_of(msg_type) + "); nothing is sent");
        return false;
    }
    return BulkPort::instance().write_frame(msg_type, payload);
}

byte_buffer encode_test_result_capped(const TestResult& result, std::size_t max_payload) {
    auto bytes = encode_json(result);
    if (bytes.size() <= max_payload)
        return bytes;
    TestResult small;
    small.passed = false;
    small.details.push_back({"other", "TestResult encoding of " + std::to_string(bytes.size()) +
                                          " bytes exceeded the bulk port limit of " +
                                          std::to_string(max_payload) + "; original details dropped"});
    return encode_json(small);
}

bool send_exit(std::int32_t code) { return send(MsgType::Exit, encode_i32(code)); }

bool send_test_result(const TestResult& result) {
    return send(MsgType::TestResult, encode_test_result_capped(result, max_bulk_frame_payload));
}

bool send_payload_metrics(const PayloadMetrics& m) { return send(MsgType::PayloadMetrics, encode_json(m)); }
bool send_profraw(byte_view profraw) { return send(MsgType::Profraw, profraw); }
bool send_stimulus(const StimulusPayload& s) { return send(MsgType::Stimulus, encode(s)); }
bool send_raw_payload_output(const RawPayloadOutput& o) { return send(MsgType::RawPayloadOutput, encode_json(o)); }
bool send_sched_exit(std::int32_t code) { return send(MsgType::SchedExit, encode_i32(code)); }
bool send_scenario_start() { return send(MsgType::ScenarioStart, {}); }
bool send_scenario_end(std::uint64_t elapsed_ms) { return send(MsgType::ScenarioEnd, encode_u64(elapsed_ms)); }
bool send_scenario_pause() { return send(MsgType::ScenarioPause, {}); }
bool send_scenario_resume() { return send(MsgType::ScenarioResume, {}); }
bool send_sys_rdy() { return send(MsgType::SysRdy, {}); }

bool send_kern_addrs(std::uint64_t phys_base, std::uint64_t page_offset_base) {
    return send(MsgType::KernAddrs, encode_kern_addrs(phys_base, page_offset_base));
}

bool send_stdout_chunk(byte_view c) { return send(MsgType::Stdout, c); }
bool send_stderr_chunk(byte_view c) { return send(MsgType::Stderr, c); }
bool send_sched_log(byte_view c) { return send(MsgType::SchedLog, c); }
bool send_dmesg(byte_view c) { return send(MsgType::Dmesg, c); }
bool send_probe_output(byte_view c) { return send(MsgType::ProbeOutput, c); }

bool send_lifecycle(LifecyclePhase phase, std::string_view reason) {
    return send(MsgType::Lifecycle, encode_lifecycle(phase, reason));
}

bool send_exec_exit(std::int32_t code) { return send(MsgType::ExecExit, encode_i32(code)); }

std::size_t send_chunked(bool (*send_one)(byte_view), byte_view data) {
    std::size_t not_sent = 0;
    while (!data.empty()) {
        const auto n = std::min(data.size(), stream_chunk_size);
        if (!send_one(data.first(n)))
            ++not_sent;
        data = data.subspan(n);
    }
    return not_sent;
}

}  // namespace ktstr::guest
