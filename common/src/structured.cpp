#include "ktstr/common/structured.hpp"

#include <nlohmann/json.hpp>

#include "ktstr/common/json_line.hpp"
#include "ktstr/common/json_nesting.hpp"

namespace ktstr {
namespace {

using nlohmann::json;

byte_buffer to_bytes(const json& j) {
    auto s = json_line(j);
    return byte_buffer(s.begin(), s.end());
}

std::optional<json> parse_object(byte_view b) {
    if (!json_nesting_within(b))  // nlohmann recurses per level
        return std::nullopt;
    auto j = json::parse(b.begin(), b.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return std::nullopt;
    return j;
}

}  // namespace

byte_buffer encode_json(const TestResult& v) {
    json details = json::array();
    for (const auto& d : v.details)
        details.push_back({{"kind", d.kind}, {"message", d.message}});
    return to_bytes({{"passed", v.passed}, {"details", details}});
}

byte_buffer encode_json(const PayloadMetrics& v) {
    json metrics = json::array();
    for (const auto& m : v.metrics)
        metrics.push_back({{"name", m.name}, {"value", m.value}, {"unit", m.unit}});
    return to_bytes({{"payload_index", v.payload_index},
                     {"payload", v.payload},
                     {"exit_code", v.exit_code},
                     {"metrics", metrics}});
}

byte_buffer encode_json(const RawPayloadOutput& v) {
    return to_bytes({{"payload_index", v.payload_index}, {"stdout", v.stdout_text}, {"stderr", v.stderr_text}});
}

// Each decoder checks types before reading so a hostile payload yields
// nullopt, never an exception.
std::optional<TestResult> decode_test_result(byte_view b) {
    auto j = parse_object(b);
    if (!j || !j->contains("passed") || !(*j)["passed"].is_boolean())
        return std::nullopt;
    TestResult r;
    r.passed = (*j)["passed"].get<bool>();
    if (j->contains("details")) {
        const auto& ds = (*j)["details"];
        if (!ds.is_array())
            return std::nullopt;
        for (const auto& d : ds) {
            if (!d.is_object() || !d.contains("message") || !d["message"].is_string())
                return std::nullopt;
            TestDetail td;
            td.message = d["message"].get<std::string>();
            if (d.contains("kind") && d["kind"].is_string())
                td.kind = d["kind"].get<std::string>();
            r.details.push_back(std::move(td));
        }
    }
    return r;
}

std::optional<PayloadMetrics> decode_payload_metrics(byte_view b) {
    auto j = parse_object(b);
    if (!j || !j->contains("payload_index") || !(*j)["payload_index"].is_number_unsigned())
        return std::nullopt;
    PayloadMetrics m;
    m.payload_index = (*j)["payload_index"].get<std::uint64_t>();
    if (j->contains("payload") && (*j)["payload"].is_string())
        m.payload = (*j)["payload"].get<std::string>();
    if (j->contains("exit_code") && (*j)["exit_code"].is_number_integer()) {
        auto c = (*j)["exit_code"].get<std::int64_t>();
        if (c < INT32_MIN || c > INT32_MAX)
            return std::nullopt;
        m.exit_code = static_cast<std::int32_t>(c);
    }
    if (j->contains("metrics")) {
        const auto& ms = (*j)["metrics"];
        if (!ms.is_array())
            return std::nullopt;
        for (const auto& e : ms) {
            if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("value") ||
                !e["value"].is_number())
                return std::nullopt;
            Metric x;
            x.name = e["name"].get<std::string>();
            x.value = e["value"].get<double>();
            if (e.contains("unit") && e["unit"].is_string())
                x.unit = e["unit"].get<std::string>();
            m.metrics.push_back(std::move(x));
        }
    }
    return m;
}

std::optional<RawPayloadOutput> decode_raw_payload_output(byte_view b) {
    auto j = parse_object(b);
    if (!j || !j->contains("payload_index") || !(*j)["payload_index"].is_number_unsigned())
        return std::nullopt;
    RawPayloadOutput r;
    r.payload_index = (*j)["payload_index"].get<std::uint64_t>();
    if (j->contains("stdout") && (*j)["stdout"].is_string())
        r.stdout_text = (*j)["stdout"].get<std::string>();
    if (j->contains("stderr") && (*j)["stderr"].is_string())
        r.stderr_text = (*j)["stderr"].get<std::string>();
    return r;
}

}  // namespace ktstr
