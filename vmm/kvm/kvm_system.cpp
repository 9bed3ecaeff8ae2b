#include "kvm/kvm_system.hpp"

#include <cerrno>

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

KvmSystem KvmSystem::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        throw KvmError(path, errno);
    return KvmSystem(UniqueFd(fd));
}

int KvmSystem::api_version() const {
    int v = ::ioctl(fd_.get(), KVM_GET_API_VERSION, 0);
    if (v < 0)
        throw KvmError("KVM_GET_API_VERSION", errno);
    return v;
}

int KvmSystem::check_extension(unsigned cap) const {
    int v = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
    if (v < 0)
        throw KvmError("KVM_CHECK_EXTENSION", errno);
    return v;
}

std::size_t KvmSystem::vcpu_mmap_size() const {
    int v = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (v < 0)
        throw KvmError("KVM_GET_VCPU_MMAP_SIZE", errno);
    if (static_cast<std::size_t>(v) < sizeof(kvm_run))
        throw KvmError("KVM_GET_VCPU_MMAP_SIZE: " + std::to_string(v) + " bytes, smaller than struct kvm_run", 0);
    return static_cast<std::size_t>(v);
}

KvmVm KvmSystem::create_vm() const {
    int fd;
    // KVM_CREATE_VM can fail with EINTR while the kernel sets up the MMU.
    do {
        fd = ::ioctl(fd_.get(), KVM_CREATE_VM, 0);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        throw KvmError("KVM_CREATE_VM", errno);
    UniqueFd vm(fd);
    return KvmVm(std::move(vm), vcpu_mmap_size());
}

}  // namespace ktstr::vmm::kvm
