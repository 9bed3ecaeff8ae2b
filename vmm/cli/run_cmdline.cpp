#include "cli/run_cmdline.hpp"

#include <ktstr/common/kernel_cmdline_params.hpp>

namespace ktstr::cli {

std::string run_cmdline_extra(bool verbose, std::string_view append) {
    std::string s = verbose ? "" : "quiet ";
    s += cmdline_params::init_echo_key;
    s += verbose ? "=1" : "=0";
    if (!append.empty()) {
        s.push_back(' ');
        s += append;
    }
    return s;
}

}  // namespace ktstr::cli
