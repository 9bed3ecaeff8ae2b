// The KVM ioctls whose argument is a header followed by a variable-length
// array, with that header's layout spelt out.
//
// Why: Debian 12's linux-libc-dev (6.1.1xx) declares those arrays with
// __DECLARE_FLEX_ARRAY, which in C++ (not C) wraps an empty struct that
// takes a byte. sizeof(kvm_cpuid2) becomes 12 instead of 8 and its entries
// start at 12, sizeof(kvm_msrs) 16 with entries at 16, and the ioctl
// numbers built from those sizes are not the kernel's: KVM answers EINVAL
// (measured here: KVM_GET_SUPPORTED_CPUID encoded as 0xc00cae05). The
// kernel's ABI is fixed, so we state it ourselves and check the numbers.
#pragma once

#include <cstddef>
#include <cstdint>

#include <linux/kvm.h>
#include <sys/ioctl.h>

namespace ktstr::vmm::kvm {

// struct kvm_cpuid2 without its entries (kvm_cpuid_entry2 follow at 8).
struct CpuidHeader {
    std::uint32_t nent;
    std::uint32_t padding;
};
static_assert(sizeof(CpuidHeader) == 8);

// struct kvm_msrs without its entries (kvm_msr_entry follow at 8).
struct MsrsHeader {
    std::uint32_t nmsrs;
    std::uint32_t pad;
};
static_assert(sizeof(MsrsHeader) == 8);

// struct kvm_msr_list without its indices (u32 follow at 4).
struct MsrListHeader {
    std::uint32_t nmsrs;
};
static_assert(sizeof(MsrListHeader) == 4);

static_assert(sizeof(kvm_cpuid_entry2) == 40 && alignof(kvm_cpuid_entry2) <= 8);
static_assert(sizeof(kvm_msr_entry) == 16 && alignof(kvm_msr_entry) <= 8);

inline constexpr unsigned long ioctl_get_supported_cpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
inline constexpr unsigned long ioctl_get_msr_index_list = _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned long ioctl_get_msrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long ioctl_set_msrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long ioctl_set_cpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);

// The numbers the kernel's own (C) headers give.
static_assert(ioctl_get_supported_cpuid == 0xc008ae05ul);
static_assert(ioctl_get_msr_index_list == 0xc004ae02ul);
static_assert(ioctl_get_msrs == 0xc008ae88ul);
static_assert(ioctl_set_msrs == 0x4008ae89ul);
static_assert(ioctl_set_cpuid2 == 0x4008ae90ul);

}  // namespace ktstr::vmm::kvm
