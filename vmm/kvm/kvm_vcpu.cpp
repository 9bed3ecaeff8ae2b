#include "kvm/kvm_vcpu.hpp"

#include <cerrno>
#include <string>

#include <sys/ioctl.h>

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

std::uint32_t KvmVcpu::run() {
    if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return KVM_EXIT_INTR;
        throw KvmError("KVM_RUN", errno);
    }
    return state().exit_reason;
}

IoExit KvmVcpu::io() const {
    const kvm_run& r = state();
    if (r.exit_reason != KVM_EXIT_IO)
        throw KvmError(std::string("io(): the last exit was ") + exit_reason_name(r.exit_reason) + ", not IO", 0);
    const std::uint64_t bytes = std::uint64_t{r.io.size} * r.io.count;
    const std::uint64_t offset = r.io.data_offset;
    if (offset > run_.size() || bytes > run_.size() - offset)
        throw KvmError("KVM_EXIT_IO: data offset " + std::to_string(offset) + " + " + std::to_string(bytes) +
                           " bytes lies outside the kvm_run mapping",
                       0);
    IoExit io;
    io.out = r.io.direction == KVM_EXIT_IO_OUT;
    io.port = r.io.port;
    io.size = r.io.size;
    io.count = r.io.count;
    io.data = {static_cast<std::uint8_t*>(run_.data()) + offset, static_cast<std::size_t>(bytes)};
    return io;
}

const char* exit_reason_name(std::uint32_t reason) noexcept {
    switch (reason) {
    case KVM_EXIT_UNKNOWN: return "UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "EXCEPTION";
    case KVM_EXIT_IO: return "IO";
    case KVM_EXIT_HYPERCALL: return "HYPERCALL";
    case KVM_EXIT_DEBUG: return "DEBUG";
    case KVM_EXIT_HLT: return "HLT";
    case KVM_EXIT_MMIO: return "MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
    case KVM_EXIT_INTR: return "INTR";
    case KVM_EXIT_SET_TPR: return "SET_TPR";
    case KVM_EXIT_TPR_ACCESS: return "TPR_ACCESS";
    case KVM_EXIT_NMI: return "NMI";
    case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
    default: return "UNKNOWN";
    }
}

}  // namespace ktstr::vmm::kvm
