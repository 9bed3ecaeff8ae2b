#include "cli/run_cmdline.hpp"

namespace ktstr::cli {

std::string run_cmdline_extra(bool verbose, std::string_view append) {
    std::string s = verbose ? "KTSTR_INIT_ECHO=1" : "quiet KTSTR_INIT_ECHO=0";
    if (!append.empty()) {
        s.push_back(' ');
        s += append;
    }
    return s;
}

}  // namespace ktstr::cli
