// An interrupt line backed by an irqfd: signal() raises an edge on one GSI
// of the in-kernel irqchip without a trip through the vCPU threads. The
// binding is removed before the eventfd closes. Declare it after the VM,
// which must outlive it.
#pragma once

#include <cstdint>

#include "kvm/eventfd.hpp"
#include "kvm/kvm_vm.hpp"

namespace ktstr::vmm::kvm {

class Irqfd {
public:
    // Throws KvmError (no irqchip yet, GSI out of range).
    Irqfd(const KvmVm& vm, std::uint32_t gsi);
    Irqfd(const Irqfd&) = delete;
    Irqfd& operator=(const Irqfd&) = delete;
    ~Irqfd();

    // One edge on the GSI. Any thread; never blocks.
    void signal() const noexcept { event_.signal(); }
    std::uint32_t gsi() const noexcept { return gsi_; }

private:
    const KvmVm& vm_;
    std::uint32_t gsi_;
    EventFd event_;
};

}  // namespace ktstr::vmm::kvm
