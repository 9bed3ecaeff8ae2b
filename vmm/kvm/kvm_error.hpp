// The error every KVM wrapper throws: which operation failed and the
// kernel's reason, e.g. "KVM_CREATE_VM: Device or resource busy".
#pragma once

#include <stdexcept>
#include <string>

namespace ktstr::vmm::kvm {

class KvmError : public std::runtime_error {
public:
    // `errnum` is the errno of the failed call (0 when not a syscall failure).
    KvmError(const std::string& what, int errnum);
    int errnum() const noexcept { return errnum_; }

private:
    int errnum_;
};

}  // namespace ktstr::vmm::kvm
