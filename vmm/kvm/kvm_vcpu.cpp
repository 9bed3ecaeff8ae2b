#include "kvm/kvm_vcpu.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <sys/ioctl.h>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {

std::uint32_t KvmVcpu::run() {
    if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return KVM_EXIT_INTR;
#if defined(__aarch64__)
        // arm64 KVM decodes only the MMIO accesses the syndrome describes.
        if (errno == ENOSYS)
            throw KvmError("KVM_RUN: the guest made an MMIO access KVM cannot decode (a load/store pair or a "
                           "writeback to a device)",
                           errno);
#endif
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

MmioExit KvmVcpu::mmio() const {
    kvm_run& r = state();
    if (r.exit_reason != KVM_EXIT_MMIO)
        throw KvmError(std::string("mmio(): the last exit was ") + exit_reason_name(r.exit_reason) + ", not MMIO", 0);
    const std::size_t len = r.mmio.len;
    if (len == 0 || len > sizeof r.mmio.data)
        throw KvmError("KVM_EXIT_MMIO: length " + std::to_string(len) + " outside 1..8", 0);
    MmioExit m;
    m.write = r.mmio.is_write != 0;
    m.address = r.mmio.phys_addr;
    m.data = {r.mmio.data, len};
    return m;
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
