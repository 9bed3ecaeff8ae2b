// One vCPU on its own thread: KVM_RUN in a loop, port I/O and MMIO exits
// dispatched to the buses, power events and failures reported to the
// StopSignal. stop() (also run by the destructor) kicks the vCPU out of
// KVM_RUN (vcpu_kick.hpp) and joins the thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "kvm/kvm_vcpu.hpp"
#include "machine/bus.hpp"
#include "machine/stop_signal.hpp"

namespace ktstr::vmm::machine {

struct VcpuContext {
    const Bus& io;
    const Bus& mmio;
    StopSignal& stop;
};

struct VcpuPosition {
    std::uint64_t rip = 0;    // the program counter (pc on aarch64)
    std::uint64_t cr3 = 0;  // its page tables, to find where the kernel image is (x86_64)
    bool five_level = false;  // CR4.LA57 (x86_64)
};

class VcpuThread {
public:
    // Starts running at once. install_vcpu_kick_handler() must have run.
    // `vcpu` must outlive the thread object.
    VcpuThread(kvm::KvmVcpu& vcpu, std::uint32_t index, VcpuContext context);
    VcpuThread(const VcpuThread&) = delete;
    VcpuThread& operator=(const VcpuThread&) = delete;
    ~VcpuThread() { stop(); }

    // Asks the vCPU to leave KVM_RUN for good (returns at once).
    void request_stop() noexcept;
    // request_stop() and wait for the thread.
    void stop() noexcept;

    // Exits handled so far (for --verbose statistics).
    std::uint64_t exits() const noexcept { return exits_.load(std::memory_order_relaxed); }
    // Where the vCPU was when a stop request took it out of KVM_RUN, after
    // stop(); nullopt when it ended for another reason or the registers
    // could not be read. Says where a hung guest hung.
    std::optional<VcpuPosition> stopped_at() const noexcept { return stopped_at_; }

private:
    void loop(std::stop_token token);
    bool handle_exit(std::uint32_t reason);  // false: the vCPU must stop
    // " at rip ..." with the registers that place a triple fault, or "".
    std::string fault_state() const;
    void handle_io();
    void handle_mmio();

    kvm::KvmVcpu& vcpu_;
    std::uint32_t index_;
    VcpuContext context_;
    std::atomic<std::uint64_t> exits_{0};
    std::optional<VcpuPosition> stopped_at_;  // written by the thread, read after join
    std::jthread thread_;  // last: starts after every member above is ready
};

}  // namespace ktstr::vmm::machine
