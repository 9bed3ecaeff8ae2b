// Making a vCPU leave KVM_RUN from another thread: the kicker sets the
// vCPU's kvm_run.immediate_exit and sends the vCPU's thread a signal whose
// handler does nothing. KVM_RUN then returns EINTR whether the signal
// lands inside the ioctl or just before it (immediate_exit closes that
// race), and the vCPU loop sees KVM_EXIT_INTR.
#pragma once

#include <csignal>

#include <pthread.h>

#include "kvm/kvm_vcpu.hpp"

namespace ktstr::vmm::kvm {

// The signal used for kicks (SIGUSR2: nothing else in ktstr-vmm uses it).
inline constexpr int vcpu_kick_signal = SIGUSR2;

// Installs the do-nothing handler (without SA_RESTART) once per process.
// Throws KvmError when sigaction fails.
void install_vcpu_kick_handler();

// Asks `vcpu`, run by `thread`, to leave KVM_RUN. Safe from any thread.
void kick_vcpu(KvmVcpu& vcpu, pthread_t thread) noexcept;

// Lets the vCPU run normally again (call from the vCPU's thread before
// the next run()).
void clear_vcpu_kick(KvmVcpu& vcpu) noexcept;

}  // namespace ktstr::vmm::kvm
