// Structured payloads (TEST, PMET, RAWO): one UTF-8 JSON object each, the
// self-describing encoding of docs/wire-format.md. Unknown keys are
// ignored on decode so either side may add fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ktstr/common/bytes.hpp"

namespace ktstr {

struct TestDetail {
    std::string kind;     // "other", "stall", "starved", ...: free-form category
    std::string message;
    friend bool operator==(const TestDetail&, const TestDetail&) = default;
};

// TEST: a test's verdict.
struct TestResult {
    bool passed = false;
    std::vector<TestDetail> details;
    friend bool operator==(const TestResult&, const TestResult&) = default;
};

struct Metric {
    std::string name;
    double value = 0;
    std::string unit;
    friend bool operator==(const Metric&, const Metric&) = default;
};

// PMET: metrics of one payload invocation.
struct PayloadMetrics {
    std::uint64_t payload_index = 0;
    std::string payload;       // the payload's name
    std::int32_t exit_code = 0;
    std::vector<Metric> metrics;
    friend bool operator==(const PayloadMetrics&, const PayloadMetrics&) = default;
};

// RAWO: raw output of a payload whose metrics the host extracts.
struct RawPayloadOutput {
    std::uint64_t payload_index = 0;
    std::string stdout_text;
    std::string stderr_text;
    friend bool operator==(const RawPayloadOutput&, const RawPayloadOutput&) = default;
};

byte_buffer encode_json(const TestResult& v);
byte_buffer encode_json(const PayloadMetrics& v);
byte_buffer encode_json(const RawPayloadOutput& v);

// nullopt for invalid UTF-8/JSON, a non-object, or a missing or
// mistyped required key.
std::optional<TestResult> decode_test_result(byte_view b);
std::optional<PayloadMetrics> decode_payload_metrics(byte_view b);
std::optional<RawPayloadOutput> decode_raw_payload_output(byte_view b);

}  // namespace ktstr
