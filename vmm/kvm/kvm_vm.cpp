#include "kvm/kvm_vm.hpp"

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

int KvmVm::check_extension(unsigned cap) const {
    int v = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
    if (v < 0)
        throw KvmError("KVM_CHECK_EXTENSION (VM)", errno);
    return v;
}

void KvmVm::set_tss_addr(std::uint64_t guest_phys) const {
    if (::ioctl(fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(guest_phys)) < 0)
        throw KvmError("KVM_SET_TSS_ADDR", errno);
}

KvmVcpu KvmVm::create_vcpu(std::uint32_t id) const {
    int fd = ::ioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(id));
    if (fd < 0)
        throw KvmError("KVM_CREATE_VCPU " + std::to_string(id), errno);
    UniqueFd vcpu(fd);
    auto run = MemoryMapping::shared_file(vcpu.get(), vcpu_mmap_size_, 0, "the vCPU's kvm_run");
    return KvmVcpu(std::move(vcpu), std::move(run));
}

namespace {

void set_region(int vm_fd, const UserMemoryRegion::Spec& s, std::uint64_t size) {
    kvm_userspace_memory_region r{};
    r.slot = s.slot;
    r.flags = (s.read_only ? KVM_MEM_READONLY : 0u) | (s.log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0u);
    r.guest_phys_addr = s.guest_phys;
    r.memory_size = size;
    r.userspace_addr = reinterpret_cast<std::uintptr_t>(s.memory.data());
    if (::ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        throw KvmError("KVM_SET_USER_MEMORY_REGION slot " + std::to_string(s.slot), errno);
}

}  // namespace

UserMemoryRegion::UserMemoryRegion(const KvmVm& vm, const Spec& spec) : vm_fd_(vm.fd()), spec_(spec) {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const auto host = reinterpret_cast<std::uintptr_t>(spec.memory.data());
    const std::uint64_t size = spec.memory.size();
    if (size == 0 || size % page != 0 || host % page != 0 || spec.guest_phys % page != 0)
        throw KvmError("memory slot " + std::to_string(spec.slot) + ": start and size must be whole pages", 0);
    if (spec.guest_phys + size < spec.guest_phys)
        throw KvmError("memory slot " + std::to_string(spec.slot) + ": guest range wraps around", 0);
    set_region(vm_fd_, spec_, size);
}

UserMemoryRegion::UserMemoryRegion(UserMemoryRegion&& o) noexcept
    : vm_fd_(std::exchange(o.vm_fd_, -1)), spec_(o.spec_) {}

UserMemoryRegion::~UserMemoryRegion() {
    if (vm_fd_ < 0)
        return;
    try {
        set_region(vm_fd_, spec_, 0);
    } catch (const KvmError&) {
        // Nothing more to do: KVM follows host unmaps through its MMU
        // notifier, so a slot left over unmapped memory can only fault the
        // guest, never touch the host's reused pages.
    }
}

}  // namespace ktstr::vmm::kvm
