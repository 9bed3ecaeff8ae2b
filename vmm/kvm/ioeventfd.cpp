#include "kvm/ioeventfd.hpp"

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

Ioeventfd::Ioeventfd(const KvmVm& vm, const KvmVm::IoEventSpec& spec)
    : vm_(vm), spec_(spec), event_(EventFd::create()) {
    vm_.ioeventfd(event_.fd(), spec_);
}

Ioeventfd::~Ioeventfd() {
    try {
        vm_.ioeventfd(event_.fd(), spec_, true);
    } catch (const KvmError&) {
        // The VM going away drops every binding with it.
    }
}

}  // namespace ktstr::vmm::kvm
