// The KVM smoke test behind `ktstr-vmm kvm-check`: open /dev/kvm, check
// the API version, create a VM with one vCPU and a small memory slot, run
// a few real-mode instructions that do port I/O, and stop at HLT.
//
// The built-in program (loaded at guest-physical 0x1000, run in real mode
// with every segment at 0):
//
//     mov dx, 0x10 ; mov al, 0x42 ; out dx, al     -> port 0x10 sees 0x42
//     inc al       ; out dx, al                    -> 0x43
//     in al, 0x11                                  <- the host answers 0x5a
//     inc al       ; out dx, al                    -> 0x5b
//     hlt
//
// so a working KVM shows port 0x10 receiving 42 43 5b and a final HLT
// exit: both directions of port I/O and the halt path.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <linux/kvm.h>

namespace ktstr::vmm::kvm {

// On aarch64 the program is arm64 code doing the same with byte loads and
// stores to two MMIO addresses (arm64 has no port I/O), and it ends with
// PSCI SYSTEM_OFF (a KVM_EXIT_SYSTEM_EVENT) rather than HLT: WFI never
// leaves the kernel. check_output_port and check_input_port then name the
// offsets of those addresses from check_mmio_base.
inline constexpr std::uint64_t check_mmio_base = 0x20000;  // above the 64 KiB slot
#if defined(__aarch64__)
inline constexpr std::uint32_t check_final_exit = KVM_EXIT_SYSTEM_EVENT;
#else
inline constexpr std::uint32_t check_final_exit = KVM_EXIT_HLT;
#endif

inline constexpr std::uint16_t check_output_port = 0x10;
inline constexpr std::uint16_t check_input_port = 0x11;
inline constexpr std::uint8_t check_input_value = 0x5a;
inline constexpr std::uint64_t check_code_address = 0x1000;
inline constexpr std::size_t check_max_code = 0x1000;  // bytes of program

// The built-in program, and the same program ending in `jmp $` instead of
// `hlt` (a guest that never stops, for timeout tests).
std::vector<std::uint8_t> check_program(bool hang = false);
// A loop of `iterations` rounds of `dec ecx; jnz`, then HLT: with
// hardware virtualisation a million rounds take about a millisecond; a KVM
// that emulates instructions in software takes hundreds (measured on a
// sandbox's /dev/kvm: 0.65 us a round).
std::vector<std::uint8_t> speed_program(std::uint32_t iterations);
// What port 0x10 receives from the built-in program: 42 43 5b.
std::vector<std::uint8_t> check_program_output();

struct KvmCheckOptions {
    std::string device = "/dev/kvm";
    std::vector<std::uint8_t> code = check_program();  // at most check_max_code bytes
    // Give up after this long (0: never). Only the vCPU's run is bounded;
    // opening /dev/kvm and creating the VM are not.
    std::chrono::milliseconds timeout{0};
    std::uint32_t max_exits = 10000;  // a program that never halts ends here
    // Called for every exit as it happens (e.g. to print it); may be empty.
    std::function<void(const std::string&)> on_event;
};

struct KvmCheckResult {
    int api_version = 0;
    std::vector<std::uint8_t> port_bytes;  // every byte written to port 0x10, in order
    std::uint32_t exits = 0;               // exits handled, the final one included
    std::uint32_t final_exit = 0;          // KVM_EXIT_* that ended the run (HLT on success)
    std::uint64_t final_rip = 0;           // the program counter (rip, or pc on aarch64)
    bool timed_out = false;                // the timeout expired first
    bool exit_limit = false;               // max_exits ran out first
};

// Runs the check. Throws KvmError when KVM is unusable (missing device,
// wrong API version, an ioctl refused); returns normally once the guest
// halted (check_final_exit), hit an exit the check does not handle, ran out of exits or
// time (final_exit/timed_out say which).
KvmCheckResult run_kvm_check(const KvmCheckOptions& options);

}  // namespace ktstr::vmm::kvm
