#include "ktstr/guest/sched_ext_state.hpp"

#include <string_view>

#include "ktstr/guest/bounded_file.hpp"
#include "ktstr/guest/paths.hpp"

namespace ktstr::guest {
namespace {

// Both files hold one short word; an ops name is at most 128 bytes.
constexpr std::size_t max_value = 256;

std::string read_word(const std::string& path) {
    auto f = read_bounded_file(path, max_value);
    if (!f)
        return {};
    std::string_view v = f->bytes;
    constexpr std::string_view space = " \t\r\n";
    const auto b = v.find_first_not_of(space);
    if (b == std::string_view::npos)
        return {};
    const auto e = v.find_last_not_of(space);
    return std::string(v.substr(b, e - b + 1));
}

}  // namespace

SchedExtState read_sched_ext_state() {
    const auto root = paths().sched_ext;
    return {read_word(root + "/state"), read_word(root + "/root/ops")};
}

}  // namespace ktstr::guest
