// The JSON nesting guard lives in ktstr::common (every decoder of guest
// JSON needs it); the host library's names for it.
#pragma once

#include "ktstr/common/json_nesting.hpp"

namespace ktstr::host {

using ktstr::json_nesting_within;
using ktstr::max_json_nesting;

}  // namespace ktstr::host
