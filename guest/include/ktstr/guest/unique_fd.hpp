// The guest library's owned file descriptor: ktstr::UniqueFd from common.
#pragma once

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::guest {

using ktstr::UniqueFd;

}  // namespace ktstr::guest
