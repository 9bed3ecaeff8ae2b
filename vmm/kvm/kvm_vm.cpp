#include "kvm/kvm_vm.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
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

void KvmVm::set_identity_map_addr(std::uint64_t guest_phys) const {
    __u64 addr = guest_phys;
    if (::ioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
        throw KvmError("KVM_SET_IDENTITY_MAP_ADDR", errno);
}

void KvmVm::create_irqchip() const {
    if (::ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0)
        throw KvmError("KVM_CREATE_IRQCHIP", errno);
}

void KvmVm::create_pit2() const {
    kvm_pit_config config{};
    config.flags = KVM_PIT_SPEAKER_DUMMY;
    if (::ioctl(fd_.get(), KVM_CREATE_PIT2, &config) < 0)
        throw KvmError("KVM_CREATE_PIT2", errno);
}

void KvmVm::irqfd(int eventfd, std::uint32_t gsi, bool deassign) const {
    kvm_irqfd r{};
    r.fd = static_cast<__u32>(eventfd);
    r.gsi = gsi;
    r.flags = deassign ? KVM_IRQFD_FLAG_DEASSIGN : 0u;
    if (::ioctl(fd_.get(), KVM_IRQFD, &r) < 0)
        throw KvmError("KVM_IRQFD for GSI " + std::to_string(gsi), errno);
}

void KvmVm::ioeventfd(int eventfd, const IoEventSpec& spec, bool deassign) const {
    kvm_ioeventfd r{};
    r.addr = spec.address;
    r.len = spec.length;
    r.fd = eventfd;
    r.datamatch = spec.data;
    r.flags = (spec.pio ? KVM_IOEVENTFD_FLAG_PIO : 0u) | (spec.match_data ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0u) |
              (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0u);
    if (::ioctl(fd_.get(), KVM_IOEVENTFD, &r) < 0) {
        char where[32];
        std::snprintf(where, sizeof where, "%#llx", static_cast<unsigned long long>(spec.address));
        throw KvmError(std::string("KVM_IOEVENTFD at ") + where, errno);
    }
}

KvmDevice KvmVm::create_device(std::uint32_t type) const {
    kvm_create_device d{};
    d.type = type;
    if (::ioctl(fd_.get(), KVM_CREATE_DEVICE, &d) < 0)
        throw KvmError("KVM_CREATE_DEVICE type " + std::to_string(type), errno);
    return KvmDevice(UniqueFd(static_cast<int>(d.fd)), type);
}

bool KvmVm::supports_device(std::uint32_t type) const noexcept {
    kvm_create_device d{};
    d.type = type;
    d.flags = KVM_CREATE_DEVICE_TEST;
    return ::ioctl(fd_.get(), KVM_CREATE_DEVICE, &d) == 0;
}

#if defined(__aarch64__)
kvm_vcpu_init KvmVm::arm_preferred_target() const {
    kvm_vcpu_init init{};
    if (::ioctl(fd_.get(), KVM_ARM_PREFERRED_TARGET, &init) < 0)
        throw KvmError("KVM_ARM_PREFERRED_TARGET", errno);
    return init;
}
#endif

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
