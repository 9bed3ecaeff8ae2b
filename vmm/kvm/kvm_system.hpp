// /dev/kvm: the KVM subsystem handle. It answers capability questions and
// creates VMs. Every failure throws KvmError naming the ioctl or path.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <linux/kvm.h>

#include "kvm/kvm_vm.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::kvm {

// The only KVM API version Linux has ever shipped; anything else means
// the kernel speaks a protocol we do not know.
inline constexpr int expected_api_version = 12;

class KvmSystem {
public:
    // Opens `path` read-write. Throws KvmError("/dev/kvm: No such file
    // or directory", ENOENT) and the like.
    static KvmSystem open(const std::string& path = "/dev/kvm");

    int api_version() const;                     // KVM_GET_API_VERSION
    int check_extension(unsigned cap) const;     // KVM_CHECK_EXTENSION: 0 absent, >0 present (or a limit)
    std::size_t vcpu_mmap_size() const;          // KVM_GET_VCPU_MMAP_SIZE: the kvm_run mapping
    KvmVm create_vm() const;                     // KVM_CREATE_VM, default machine type
#if defined(__x86_64__)
    // KVM_GET_SUPPORTED_CPUID (x86): every CPUID leaf KVM can present to a
    // guest, with the feature bits it can virtualise here.
    std::vector<kvm_cpuid_entry2> supported_cpuid() const;
#endif

    int fd() const noexcept { return fd_.get(); }

private:
    explicit KvmSystem(UniqueFd fd) noexcept : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace ktstr::vmm::kvm
