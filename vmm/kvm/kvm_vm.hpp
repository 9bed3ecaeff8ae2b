// A KVM virtual machine: its memory slots and its vCPUs. Obtained from
// KvmSystem::create_vm. Closing it (destruction) tears the VM down once
// every vCPU fd is closed too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kvm/kvm_device.hpp"
#include "kvm/kvm_vcpu.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::kvm {

class KvmVm {
public:
    KvmVm(UniqueFd fd, std::size_t vcpu_mmap_size) noexcept : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}

    int check_extension(unsigned cap) const;  // KVM_CHECK_EXTENSION on the VM (per-VM answers)

    // KVM_SET_TSS_ADDR (x86): three pages of guest-physical address space
    // KVM may use to run real mode on Intel hosts without unrestricted
    // guest support. Must lie outside every memory slot.
    void set_tss_addr(std::uint64_t guest_phys) const;

    // KVM_SET_IDENTITY_MAP_ADDR (x86): the one page KVM uses for its EPT
    // identity map on Intel hosts; outside every memory slot, before the
    // first vCPU is created.
    void set_identity_map_addr(std::uint64_t guest_phys) const;

    // KVM_CREATE_IRQCHIP (x86): the in-kernel 8259 pair, IOAPIC and local
    // APICs, with the default GSI routing (0-15 to the PICs and the IOAPIC,
    // 16-23 to the IOAPIC). Before the first vCPU.
    void create_irqchip() const;
    // KVM_CREATE_PIT2 (x86): the in-kernel 8254 timer at ports 0x40-0x43,
    // with port 0x61 answered by a dummy speaker.
    void create_pit2() const;

    // KVM_IRQFD: a write to `eventfd` raises GSI `gsi` (an edge: the line
    // goes up and down). deassign removes the binding.
    void irqfd(int eventfd, std::uint32_t gsi, bool deassign = false) const;

    // KVM_IOEVENTFD: a guest write of `length` bytes to `address` (MMIO,
    // or a port when `pio`) signals `eventfd` instead of exiting to user
    // space; with a datamatch only writes of that value do. deassign
    // removes the binding (the other fields must match).
    struct IoEventSpec {
        std::uint64_t address = 0;
        std::uint32_t length = 4;
        bool pio = false;
        bool match_data = false;
        std::uint64_t data = 0;
    };
    void ioeventfd(int eventfd, const IoEventSpec& spec, bool deassign = false) const;

    // KVM_CREATE_DEVICE of `type` (KVM_DEV_TYPE_*): an in-kernel device
    // such as arm64's GICv3, configured through its own fd.
    KvmDevice create_device(std::uint32_t type) const;
    // Whether KVM could create one (KVM_CREATE_DEVICE_TEST: nothing made).
    bool supports_device(std::uint32_t type) const noexcept;
#if defined(__aarch64__)
    // KVM_ARM_PREFERRED_TARGET: the vCPU target (and no features) this
    // host's KVM prefers, the base of every KVM_ARM_VCPU_INIT.
    kvm_vcpu_init arm_preferred_target() const;
#endif
    // KVM_CREATE_VCPU with the given id (the APIC id on x86), its kvm_run
    // structure mapped.
    KvmVcpu create_vcpu(std::uint32_t id) const;

    int fd() const noexcept { return fd_.get(); }

private:
    UniqueFd fd_;
    std::size_t vcpu_mmap_size_;
};

// A range of host memory that the guest sees at `guest_phys`: registered
// with KVM_SET_USER_MEMORY_REGION on construction, removed (size 0) on
// destruction. Declare it after both the VM and the memory it maps, so
// that it goes first: the guest must not keep a window on memory the host
// has unmapped (and perhaps mapped again for something else).
class UserMemoryRegion {
public:
    struct Spec {
        std::uint32_t slot = 0;
        std::uint64_t guest_phys = 0;  // page-aligned
        std::span<std::byte> memory;   // page-aligned start and size
        bool read_only = false;        // KVM_MEM_READONLY: guest writes exit as MMIO
        bool log_dirty = false;        // KVM_MEM_LOG_DIRTY_PAGES
    };

    // Throws KvmError for misaligned ranges, an overflowing guest range,
    // or a refusal by KVM (overlap with another slot, too many slots).
    UserMemoryRegion(const KvmVm& vm, const Spec& spec);
    UserMemoryRegion(UserMemoryRegion&& o) noexcept;
    UserMemoryRegion& operator=(UserMemoryRegion&&) = delete;
    UserMemoryRegion(const UserMemoryRegion&) = delete;
    UserMemoryRegion& operator=(const UserMemoryRegion&) = delete;
    ~UserMemoryRegion();

    const Spec& spec() const noexcept { return spec_; }

private:
    int vm_fd_;
    Spec spec_;
};

}  // namespace ktstr::vmm::kvm
