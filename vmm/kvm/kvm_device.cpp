#include "kvm/kvm_device.hpp"

#include <cerrno>
#include <string>

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

void KvmDevice::set_attr(std::uint32_t group, std::uint64_t attr, const void* addr) const {
    kvm_device_attr a{};
    a.group = group;
    a.attr = attr;
    a.addr = reinterpret_cast<std::uint64_t>(addr);
    if (::ioctl(fd_.get(), KVM_SET_DEVICE_ATTR, &a) < 0)
        throw KvmError("KVM_SET_DEVICE_ATTR on device type " + std::to_string(type_) + ", group " +
                           std::to_string(group) + ", attribute " + std::to_string(attr),
                       errno);
}

bool KvmDevice::has_attr(std::uint32_t group, std::uint64_t attr) const noexcept {
    kvm_device_attr a{};
    a.group = group;
    a.attr = attr;
    return ::ioctl(fd_.get(), KVM_HAS_DEVICE_ATTR, &a) == 0;
}

}  // namespace ktstr::vmm::kvm
