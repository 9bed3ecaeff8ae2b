#include "ktstr/common/json_line.hpp"

namespace ktstr {
namespace {

template <typename Json>
std::string dump_line(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

std::string json_line(const nlohmann::json& j) { return dump_line(j); }
std::string json_line(const nlohmann::ordered_json& j) { return dump_line(j); }

}  // namespace ktstr
