// One KVM vCPU: its fd and its mapped kvm_run structure. Run it from one
// thread at a time; the exit data is valid until the next run().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <linux/kvm.h>

#include "kvm/memory_mapping.hpp"
#include "ktstr/common/unique_fd.hpp"

namespace ktstr::vmm::kvm {

// An MMIO exit (KVM_EXIT_MMIO): a guest access to an address no memory
// slot covers.
struct MmioExit {
    bool write = false;
    std::uint64_t address = 0;
    // `len` bytes (1..8): what the guest wrote, or where to put what it
    // reads before the next run().
    std::span<std::uint8_t> data;
};

// A port I/O exit (KVM_EXIT_IO), its data bounded to the kvm_run mapping.
struct IoExit {
    bool out = false;          // true: the guest wrote (OUT); false: it reads (IN)
    std::uint16_t port = 0;
    std::uint8_t size = 0;     // bytes per access: 1, 2 or 4
    std::uint32_t count = 0;   // accesses (string instructions repeat)
    // size * count bytes: what the guest wrote, or where to put what it
    // reads before the next run().
    std::span<std::uint8_t> data;
};

class KvmVcpu {
public:
    KvmVcpu(UniqueFd fd, MemoryMapping run) noexcept : fd_(std::move(fd)), run_(std::move(run)) {}

#if defined(__x86_64__)
    // x86_64 registers and setup (kvm_vcpu_x86_64.cpp).
    kvm_regs regs() const;                 // KVM_GET_REGS
    void set_regs(const kvm_regs& r) const;
    kvm_sregs sregs() const;               // KVM_GET_SREGS
    void set_sregs(const kvm_sregs& s) const;

    // x86 setup before the first run.
    void set_cpuid2(std::span<const kvm_cpuid_entry2> entries) const;  // KVM_SET_CPUID2
    // KVM_SET_MSRS; throws KvmError naming the first MSR KVM refused.
    void set_msrs(std::span<const kvm_msr_entry> entries) const;
    kvm_lapic_state lapic() const;                // KVM_GET_LAPIC
    void set_lapic(const kvm_lapic_state& s) const;
    kvm_fpu fpu() const;                          // KVM_GET_FPU
    void set_fpu(const kvm_fpu& f) const;
    kvm_mp_state mp_state() const;                // KVM_GET_MP_STATE
    void set_mp_state(const kvm_mp_state& s) const;
#elif defined(__aarch64__)
    // aarch64 setup (kvm_vcpu_aarch64.cpp). KVM_ARM_VCPU_INIT comes first:
    // no register can be read or written, and no run happens, before it.
    void arm_init(const kvm_vcpu_init& init) const;
    // KVM_GET_ONE_REG / KVM_SET_ONE_REG of a 64-bit register (an
    // arm64_core_reg() or arm64_sys_reg() id, kvm/arm64_registers.hpp).
    std::uint64_t one_reg(std::uint64_t id) const;
    void set_one_reg(std::uint64_t id, std::uint64_t value) const;
#endif

    // KVM_RUN until the next exit; returns kvm_run's exit_reason. A signal
    // that interrupts the run returns KVM_EXIT_INTR, so a caller can check
    // a deadline and run again. Throws KvmError for any other failure.
    std::uint32_t run();

    // The exit data of the last run(). io() throws KvmError when the last
    // exit was not KVM_EXIT_IO or the kernel's data offset does not fit the
    // mapping.
    kvm_run& state() const noexcept { return *static_cast<kvm_run*>(run_.data()); }
    IoExit io() const;
    // Same for KVM_EXIT_MMIO (len bounded to the 8-byte data field).
    MmioExit mmio() const;

    int fd() const noexcept { return fd_.get(); }

private:
    UniqueFd fd_;
    MemoryMapping run_;
};

// The name of a KVM_EXIT_* reason ("HLT", "IO", ...), or "UNKNOWN".
const char* exit_reason_name(std::uint32_t reason) noexcept;

}  // namespace ktstr::vmm::kvm
