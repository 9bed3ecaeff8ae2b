// KvmVcpu's x86_64 register and setup ioctls (kvm_vcpu.hpp).
#include "kvm/kvm_vcpu.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sys/ioctl.h>

#include "kvm/kvm_abi.hpp"
#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

kvm_regs KvmVcpu::regs() const {
    kvm_regs r{};
    if (::ioctl(fd_.get(), KVM_GET_REGS, &r) < 0)
        throw KvmError("KVM_GET_REGS", errno);
    return r;
}

void KvmVcpu::set_regs(const kvm_regs& r) const {
    if (::ioctl(fd_.get(), KVM_SET_REGS, &r) < 0)
        throw KvmError("KVM_SET_REGS", errno);
}

kvm_sregs KvmVcpu::sregs() const {
    kvm_sregs s{};
    if (::ioctl(fd_.get(), KVM_GET_SREGS, &s) < 0)
        throw KvmError("KVM_GET_SREGS", errno);
    return s;
}

void KvmVcpu::set_sregs(const kvm_sregs& s) const {
    if (::ioctl(fd_.get(), KVM_SET_SREGS, &s) < 0)
        throw KvmError("KVM_SET_SREGS", errno);
}

namespace {

// A header and its entries in one zeroed, suitably aligned buffer, laid
// out as the kernel reads it (kvm_abi.hpp).
template <typename Header, typename Entry>
std::vector<std::uint64_t> header_and_entries(std::span<const Entry> entries) {
    const Header h{static_cast<std::uint32_t>(entries.size()), 0};
    std::vector<std::uint64_t> buf((sizeof h + entries.size_bytes() + 7) / 8, 0);
    std::memcpy(buf.data(), &h, sizeof h);
    if (!entries.empty())
        std::memcpy(reinterpret_cast<std::byte*>(buf.data()) + sizeof h, entries.data(), entries.size_bytes());
    return buf;
}

}  // namespace

void KvmVcpu::set_cpuid2(std::span<const kvm_cpuid_entry2> entries) const {
    auto buf = header_and_entries<CpuidHeader>(entries);
    if (::ioctl(fd_.get(), ioctl_set_cpuid2, buf.data()) < 0)
        throw KvmError("KVM_SET_CPUID2", errno);
}

void KvmVcpu::set_msrs(std::span<const kvm_msr_entry> entries) const {
    auto buf = header_and_entries<MsrsHeader>(entries);
    const int n = ::ioctl(fd_.get(), ioctl_set_msrs, buf.data());
    if (n < 0)
        throw KvmError("KVM_SET_MSRS", errno);
    // KVM stops at the first MSR it refuses and returns how many it set.
    if (static_cast<std::size_t>(n) < entries.size()) {
        char msr[16];
        std::snprintf(msr, sizeof msr, "%#x", entries[static_cast<std::size_t>(n)].index);
        throw KvmError(std::string("KVM_SET_MSRS: KVM refused MSR ") + msr, 0);
    }
}

kvm_lapic_state KvmVcpu::lapic() const {
    kvm_lapic_state s{};
    if (::ioctl(fd_.get(), KVM_GET_LAPIC, &s) < 0)
        throw KvmError("KVM_GET_LAPIC", errno);
    return s;
}

void KvmVcpu::set_lapic(const kvm_lapic_state& s) const {
    if (::ioctl(fd_.get(), KVM_SET_LAPIC, &s) < 0)
        throw KvmError("KVM_SET_LAPIC", errno);
}

kvm_fpu KvmVcpu::fpu() const {
    kvm_fpu f{};
    if (::ioctl(fd_.get(), KVM_GET_FPU, &f) < 0)
        throw KvmError("KVM_GET_FPU", errno);
    return f;
}

void KvmVcpu::set_fpu(const kvm_fpu& f) const {
    if (::ioctl(fd_.get(), KVM_SET_FPU, &f) < 0)
        throw KvmError("KVM_SET_FPU", errno);
}

kvm_mp_state KvmVcpu::mp_state() const {
    kvm_mp_state s{};
    if (::ioctl(fd_.get(), KVM_GET_MP_STATE, &s) < 0)
        throw KvmError("KVM_GET_MP_STATE", errno);
    return s;
}

void KvmVcpu::set_mp_state(const kvm_mp_state& s) const {
    if (::ioctl(fd_.get(), KVM_SET_MP_STATE, &s) < 0)
        throw KvmError("KVM_SET_MP_STATE", errno);
}

}  // namespace ktstr::vmm::kvm
