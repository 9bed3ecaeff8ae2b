// An optional value as JSON: the value, or null. Shared by the run
// result's and the scheduler report's JSON (private to the host library).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace ktstr::host {

template <typename T>
nlohmann::ordered_json optional_json(const std::optional<T>& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace ktstr::host
