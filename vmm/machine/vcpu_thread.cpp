#include "machine/vcpu_thread.hpp"

#include <algorithm>
#include <exception>

#include <fmt/core.h>
#include <linux/kvm.h>
#include <pthread.h>

#include "kvm/vcpu_kick.hpp"
#if defined(__aarch64__)
#include "arch/aarch64/vcpu/vcpu_setup.hpp"
#endif

namespace ktstr::vmm::machine {

VcpuThread::VcpuThread(kvm::KvmVcpu& vcpu, std::uint32_t index, VcpuContext context)
    : vcpu_(vcpu), index_(index), context_(context), thread_([this](std::stop_token t) { loop(std::move(t)); }) {}

void VcpuThread::request_stop() noexcept {
    if (!thread_.joinable())
        return;
    thread_.request_stop();
    // immediate_exit stays set: every later KVM_RUN returns at once, so a
    // kick that lands just before the ioctl is not lost.
    kvm::kick_vcpu(vcpu_, thread_.native_handle());
}

void VcpuThread::stop() noexcept {
    request_stop();
    if (thread_.joinable())
        thread_.join();
}

void VcpuThread::loop(std::stop_token token) {
    const auto name = fmt::format("vcpu{}", index_);
    ::pthread_setname_np(::pthread_self(), name.c_str());
    try {
        while (!token.stop_requested()) {
            const std::uint32_t reason = vcpu_.run();
            exits_.fetch_add(1, std::memory_order_relaxed);
            if (!handle_exit(reason))
                return;
        }
    } catch (const std::exception& e) {
        context_.stop.request(StopReason::vcpu_failed, fmt::format("vCPU {}: {}", index_, e.what()));
        return;
    }
    try {
#if defined(__aarch64__)
        stopped_at_ = VcpuPosition{aarch64::vcpu_pc(vcpu_), 0, false};
#else
        const auto sr = vcpu_.sregs();
        stopped_at_ = VcpuPosition{vcpu_.regs().rip, sr.cr3, (sr.cr4 & (1ULL << 12)) != 0};
#endif
    } catch (const std::exception&) {
        // A diagnostic only: no position rather than a failure.
    }
}

std::string VcpuThread::fault_state() const {
#if defined(__aarch64__)
    return "";  // no triple fault on arm64: KVM_EXIT_SHUTDOWN does not happen there
#else
    try {
        const auto r = vcpu_.regs();
        const auto sr = vcpu_.sregs();
        // On AMD, KVM reinitialises the VMCB when it intercepts a shutdown:
        // what it reports then is the reset state (real mode at 0xfff0),
        // not where the guest was.
        if ((sr.cr0 & 1) == 0 && r.rip == 0xfff0)
            return " (the CPU's state was reset with the fault, as KVM does on AMD: where it happened is lost)";
        return fmt::format(" at rip {:#x} (rsp {:#x}, cr2 {:#x}, cr3 {:#x}, idt {:#x}+{:#x})", r.rip, r.rsp, sr.cr2,
                           sr.cr3, sr.idt.base, sr.idt.limit);
    } catch (const std::exception&) {
        return "";  // the state is a diagnostic only
    }
#endif
}

bool VcpuThread::handle_exit(std::uint32_t reason) {
    const kvm_run& run = vcpu_.state();
    switch (reason) {
    case KVM_EXIT_INTR:
        return true;  // a kick or a stray signal: the loop checks for a stop
    case KVM_EXIT_IO:
        handle_io();
        return true;
    case KVM_EXIT_MMIO:
        handle_mmio();
        return true;
    case KVM_EXIT_HLT:
        // The in-kernel local APIC handles HLT; seen here only if the guest
        // halted with interrupts off for good.
        context_.stop.request(StopReason::vcpu_failed,
                              fmt::format("vCPU {} halted with interrupts disabled", index_));
        return false;
    case KVM_EXIT_SHUTDOWN:
        // A triple fault: what a PC does is reset. Where it happened goes
        // into the reason, for a guest that was not meant to reset.
        context_.stop.request(StopReason::reset, fmt::format("vCPU {} triple fault{}", index_, fault_state()));
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run.system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            context_.stop.request(StopReason::power_off);
            return false;
        case KVM_SYSTEM_EVENT_RESET:
            context_.stop.request(StopReason::reset);
            return false;
        case KVM_SYSTEM_EVENT_CRASH:
            // A guest's crash report (pvpanic-like; x86 and s390 raise it):
            // a reset that says why.
            context_.stop.request(StopReason::reset, fmt::format("vCPU {}: the guest reported a crash", index_));
            return false;
        default:
            context_.stop.request(StopReason::vcpu_failed,
                                  fmt::format("vCPU {}: system event {}", index_, run.system_event.type));
            return false;
        }
    case KVM_EXIT_FAIL_ENTRY:
        context_.stop.request(StopReason::vcpu_failed,
                              fmt::format("vCPU {}: KVM could not enter the guest (hardware reason {:#x})", index_,
                                          static_cast<std::uint64_t>(run.fail_entry.hardware_entry_failure_reason)));
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        context_.stop.request(StopReason::vcpu_failed,
                              fmt::format("vCPU {}: KVM internal error, suberror {}", index_, run.internal.suberror));
        return false;
    default:
        context_.stop.request(StopReason::vcpu_failed,
                              fmt::format("vCPU {}: unexpected exit {} ({})", index_, kvm::exit_reason_name(reason),
                                          reason));
        return false;
    }
}

void VcpuThread::handle_io() {
    const kvm::IoExit io = vcpu_.io();
    // String instructions (rep outsb/insb) repeat the access `count` times
    // on the same port.
    for (std::uint32_t i = 0; i < io.count; ++i) {
        auto slice = io.data.subspan(std::size_t{i} * io.size, io.size);
        if (io.out)
            context_.io.write(io.port, slice);
        else if (!context_.io.read(io.port, slice))
            std::fill(slice.begin(), slice.end(), std::uint8_t{0xff});
    }
}

void VcpuThread::handle_mmio() {
    const kvm::MmioExit m = vcpu_.mmio();
    if (m.write)
        context_.mmio.write(m.address, m.data);
    else if (!context_.mmio.read(m.address, m.data))
        std::fill(m.data.begin(), m.data.end(), std::uint8_t{0xff});
}

}  // namespace ktstr::vmm::machine
