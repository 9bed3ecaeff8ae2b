// KvmVcpu's aarch64 setup ioctls (kvm_vcpu.hpp).
#include "kvm/kvm_vcpu.hpp"

#include <cerrno>
#include <cstdio>
#include <string>

#include <sys/ioctl.h>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {
namespace {

std::string reg_name(const char* ioctl_name, std::uint64_t id) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "%#llx", static_cast<unsigned long long>(id));
    return std::string(ioctl_name) + " " + hex;
}

}  // namespace

void KvmVcpu::arm_init(const kvm_vcpu_init& init) const {
    if (::ioctl(fd_.get(), KVM_ARM_VCPU_INIT, &init) < 0)
        throw KvmError("KVM_ARM_VCPU_INIT", errno);
}

std::uint64_t KvmVcpu::one_reg(std::uint64_t id) const {
    std::uint64_t value = 0;
    kvm_one_reg r{id, reinterpret_cast<std::uint64_t>(&value)};
    if (::ioctl(fd_.get(), KVM_GET_ONE_REG, &r) < 0)
        throw KvmError(reg_name("KVM_GET_ONE_REG", id), errno);
    return value;
}

void KvmVcpu::set_one_reg(std::uint64_t id, std::uint64_t value) const {
    kvm_one_reg r{id, reinterpret_cast<std::uint64_t>(&value)};
    if (::ioctl(fd_.get(), KVM_SET_ONE_REG, &r) < 0)
        throw KvmError(reg_name("KVM_SET_ONE_REG", id), errno);
}

}  // namespace ktstr::vmm::kvm
