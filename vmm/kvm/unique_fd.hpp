// The VMM's owned file descriptor: ktstr::UniqueFd from common. Every fd
// the VMM opens (/dev/kvm, VM, vCPU, pipes, sockets) lives in one.
#pragma once

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm {

using ktstr::UniqueFd;

}  // namespace ktstr::vmm
