// An in-kernel KVM device (KVM_CREATE_DEVICE, kvm_vm.hpp): its fd, and its
// attributes, set by (group, attribute) as the device's documentation in
// Documentation/virt/kvm/devices/ names them. Goes with the VM.
#pragma once

#include <cstdint>

#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::kvm {

class KvmDevice {
public:
    KvmDevice(UniqueFd fd, std::uint32_t type) noexcept : fd_(std::move(fd)), type_(type) {}

    // KVM_SET_DEVICE_ATTR with `addr` pointing at the attribute's value
    // (nullptr for an attribute that carries none, such as a control).
    // Throws KvmError naming the group and attribute.
    void set_attr(std::uint32_t group, std::uint64_t attr, const void* addr) const;
    void set_attr_u64(std::uint32_t group, std::uint64_t attr, std::uint64_t value) const { set_attr(group, attr, &value); }
    void set_attr_u32(std::uint32_t group, std::uint64_t attr, std::uint32_t value) const { set_attr(group, attr, &value); }
    // KVM_HAS_DEVICE_ATTR.
    bool has_attr(std::uint32_t group, std::uint64_t attr) const noexcept;

    std::uint32_t type() const noexcept { return type_; }
    int fd() const noexcept { return fd_.get(); }

private:
    UniqueFd fd_;
    std::uint32_t type_;
};

}  // namespace ktstr::vmm::kvm
