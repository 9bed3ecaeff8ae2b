#include "kvm/irqfd.hpp"

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

Irqfd::Irqfd(const KvmVm& vm, std::uint32_t gsi) : vm_(vm), gsi_(gsi), event_(EventFd::create()) {
    vm_.irqfd(event_.fd(), gsi_);
}

Irqfd::~Irqfd() {
    try {
        vm_.irqfd(event_.fd(), gsi_, true);
    } catch (const KvmError&) {
        // Closing the eventfd releases the binding anyway (KVM watches it).
    }
}

}  // namespace ktstr::vmm::kvm
