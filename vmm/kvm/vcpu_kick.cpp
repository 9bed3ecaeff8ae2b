#include "kvm/vcpu_kick.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "kvm/kvm_error.hpp"

namespace ktstr::vmm::kvm {
namespace {

void on_kick(int) {}

}  // namespace

void install_vcpu_kick_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa{};
        sa.sa_handler = on_kick;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
        if (::sigaction(vcpu_kick_signal, &sa, nullptr) < 0)
            throw KvmError("sigaction for the vCPU kick signal", errno);
    });
}

void kick_vcpu(KvmVcpu& vcpu, pthread_t thread) noexcept {
    // kvm_run is shared with the kernel and the vCPU thread: write the
    // flag atomically so neither sees a torn or stale value.
    std::atomic_ref<__u8>(vcpu.state().immediate_exit).store(1, std::memory_order_release);
    ::pthread_kill(thread, vcpu_kick_signal);
}

void clear_vcpu_kick(KvmVcpu& vcpu) noexcept {
    std::atomic_ref<__u8>(vcpu.state().immediate_exit).store(0, std::memory_order_release);
}

}  // namespace ktstr::vmm::kvm
