#include "ktstr/common/frame_json.hpp"

#include "ktstr/common/hex.hpp"
#include "ktstr/common/json_nesting.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"

namespace ktstr {

using nlohmann::json;

namespace {

json error(std::string what) { return json{{"error", std::move(what)}}; }

json size_error(std::size_t got, std::string_view want) {
    return error("payload is " + std::to_string(got) + " bytes, expected " + std::string(want));
}

std::string_view snapshot_kind_name(std::uint32_t k) {
    switch (static_cast<SnapshotKind>(k)) {
    case SnapshotKind::None: return "none";
    case SnapshotKind::Capture: return "capture";
    case SnapshotKind::Watch: return "watch";
    case SnapshotKind::ShmDrainHold: return "shm-drain-hold";
    case SnapshotKind::ShmDrainRelease: return "shm-drain-release";
    }
    return "unknown";
}

}  // namespace

json payload_fields(std::uint32_t msg_type, byte_view p) {
    auto info = find_msg_type(msg_type);
    if (!info)
        return json::object();
    switch (info->payload) {
    case PayloadKind::Empty:
        return p.empty() ? json::object() : size_error(p.size(), "0");
    case PayloadKind::I32:
        if (auto v = decode_i32(p))
            return {{"code", *v}};
        return size_error(p.size(), "4");
    case PayloadKind::U64:
        if (auto v = decode_u64(p))
            return {{"elapsed_ms", *v}};
        return size_error(p.size(), "8");
    case PayloadKind::Stimulus:
        if (auto s = decode_stimulus(p))
            return {{"elapsed_ms", s->elapsed_ms},     {"step_index", s->step_index},
                    {"op_count", s->op_count},         {"op_kinds", s->op_kinds},
                    {"cgroup_count", s->cgroup_count}, {"worker_count", s->worker_count},
                    {"total_iterations", s->total_iterations}};
        return size_error(p.size(), "at least 24");
    case PayloadKind::SnapshotRequest:
        if (auto r = decode_snapshot_request(p)) {
            json j{{"request_id", r->request_id},
                   {"kind", r->kind},
                   {"kind_name", snapshot_kind_name(r->kind)},
                   {"tag", padded_text(r->tag)}};
            if (r->kind == 0)
                j["error"] = "snapshot kind 0 is invalid on the wire";
            return j;
        }
        return size_error(p.size(), "72");
    case PayloadKind::SnapshotReply:
        if (auto r = decode_snapshot_reply(p))
            return {{"request_id", r->request_id},
                    {"status", r->status},
                    {"status_name", r->status == 1 ? "ok" : r->status == 2 ? "err" : "unknown"},
                    {"reason", padded_text(r->reason)}};
        return size_error(p.size(), "72");
    case PayloadKind::KernAddrs:
        if (auto k = decode_kern_addrs(p)) {
            json j{{"phys_base", k->phys_base}, {"page_offset_base", k->page_offset_base}};
            if (k->kernel_text_kva)
                j["kernel_text_kva"] = *k->kernel_text_kva;
            return j;
        }
        if (p.size() == 16 || p.size() == 24)
            return error("biased address is 0 (unknown)");
        return size_error(p.size(), "16 or 24");
    case PayloadKind::Lifecycle:
        if (auto l = decode_lifecycle(p))
            return {{"phase", static_cast<int>(l->phase)},
                    {"phase_name", lifecycle_phase_name(l->phase)},
                    {"reason", l->reason}};
        return p.empty() ? error("empty lifecycle payload") : error("lifecycle phase " + std::to_string(p[0]) + " is reserved or unknown");
    case PayloadKind::Text:
        return {{"text", std::string(p.begin(), p.end())}};
    case PayloadKind::Json: {
        if (p.size() > max_decoded_json_payload)
            return error("payload of " + std::to_string(p.size()) + " bytes not decoded (above " +
                         std::to_string(max_decoded_json_payload) + ")");
        if (!json_nesting_within(p))
            return error("payload JSON nests deeper than " + std::to_string(max_json_nesting) + " levels");
        auto j = json::parse(p.begin(), p.end(), nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return error("payload is not a JSON object");
        return j;
    }
    case PayloadKind::Bytes:
        return json::object();
    }
    return json::object();
}

nlohmann::ordered_json frame_to_json(const Frame& frame) {
    nlohmann::ordered_json j;
    auto info = find_msg_type(frame.msg_type());
    if (info)
        j["type"] = info->tag;
    else
        j["type"] = nullptr;
    j["msg_type"] = frame.msg_type();
    j["length"] = frame.header.length;
    j["crc_ok"] = frame.crc_ok;
    j["payload_hex"] = to_hex(frame.payload);
    j["fields"] = payload_fields(frame.msg_type(), frame.payload);
    return j;
}

}  // namespace ktstr
