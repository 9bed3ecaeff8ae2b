#include "kvm/kvm_error.hpp"

#include <cstring>

namespace ktstr::vmm::kvm {

KvmError::KvmError(const std::string& what, int errnum)
    : std::runtime_error(errnum != 0 ? what + ": " + std::strerror(errnum) : what), errnum_(errnum) {}

}  // namespace ktstr::vmm::kvm
