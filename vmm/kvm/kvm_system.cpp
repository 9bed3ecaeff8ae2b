#include "kvm/kvm_system.hpp"
#if defined(__x86_64__)
#include "kvm/kvm_abi.hpp"
#endif

#include <cerrno>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

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

#if defined(__x86_64__)
std::vector<kvm_cpuid_entry2> KvmSystem::supported_cpuid() const {
    // The kernel says E2BIG until the buffer holds every entry. Start at
    // KVM's own limit (KVM_MAX_CPUID_ENTRIES, 256 since Linux 5.x).
    for (std::uint32_t n = 256; n <= 4096; n *= 2) {
        std::vector<std::uint64_t> buf((sizeof(CpuidHeader) + n * sizeof(kvm_cpuid_entry2) + 7) / 8, 0);
        CpuidHeader h{n, 0};
        std::memcpy(buf.data(), &h, sizeof h);
        if (::ioctl(fd_.get(), ioctl_get_supported_cpuid, buf.data()) == 0) {
            std::memcpy(&h, buf.data(), sizeof h);
            const std::uint32_t count = std::min(h.nent, n);
            std::vector<kvm_cpuid_entry2> entries(count);
            std::memcpy(entries.data(), reinterpret_cast<const std::byte*>(buf.data()) + sizeof h,
                        count * sizeof(kvm_cpuid_entry2));
            return entries;
        }
        if (errno != E2BIG)
            throw KvmError("KVM_GET_SUPPORTED_CPUID", errno);
    }
    throw KvmError("KVM_GET_SUPPORTED_CPUID: more than 4096 entries", E2BIG);
}
#endif

}  // namespace ktstr::vmm::kvm
