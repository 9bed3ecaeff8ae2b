// One JSON value as one line of text: the form of every JSON line ktstr
// writes (decode's output, the message log, the run result, capture.json)
// and of the structured payloads (TEST, PMET, RAWO).
//
// Compact (no spaces, no newline at the end: the caller ends the line), and
// invalid UTF-8 in strings becomes U+FFFD instead of an exception: guest
// text is arbitrary bytes and must never make a writer throw.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ktstr {

std::string json_line(const nlohmann::json& j);
std::string json_line(const nlohmann::ordered_json& j);

}  // namespace ktstr
