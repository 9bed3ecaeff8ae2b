// A guest write KVM turns into an eventfd signal (KVM_IOEVENTFD) instead of
// an exit: virtio queue notifications reach the device thread without
// stopping the vCPU for user space. The binding is removed before the
// eventfd closes. Declare it after the VM, which must outlive it.
#pragma once

#include "kvm/eventfd.hpp"
#include "kvm/kvm_vm.hpp"

namespace ktstr::vmm::kvm {

class Ioeventfd {
public:
    // Throws KvmError (bad length, a binding that overlaps another).
    Ioeventfd(const KvmVm& vm, const KvmVm::IoEventSpec& spec);
    Ioeventfd(const Ioeventfd&) = delete;
    Ioeventfd& operator=(const Ioeventfd&) = delete;
    ~Ioeventfd();

    const EventFd& event() const noexcept { return event_; }
    const KvmVm::IoEventSpec& spec() const noexcept { return spec_; }

private:
    const KvmVm& vm_;
    KvmVm::IoEventSpec spec_;
    EventFd event_;
};

}  // namespace ktstr::vmm::kvm
