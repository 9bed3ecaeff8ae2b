#include "ktstr/common/json_nesting.hpp"

namespace ktstr {

bool json_nesting_within(byte_view text, std::size_t limit) noexcept {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (auto c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '[':
        case '{':
            if (++depth > limit)
                return false;
            break;
        case ']':
        case '}':
            if (depth != 0)
                --depth;
            break;
        default:
            break;
        }
    }
    return true;
}

}  // namespace ktstr
