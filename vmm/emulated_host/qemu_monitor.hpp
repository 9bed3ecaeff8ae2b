// What the emulated host asks QEMU's human monitor (HMP) when the outer
// guest hung until the timeout: every outer CPU's registers, just before
// QEMU is killed. The answer tells the kinds of hang apart: both CPUs
// halted (the outer guest idles, waiting for an event that never came),
// one spinning in the outer kernel (a lockup, named by the outer kernel's
// System.map), or no answer at all (QEMU itself stuck).
//
// The monitor is a readline-mode HMP on a socket pair (qemu_command.hpp).
// Its text is QEMU's, not the guest's, but it is bounded and parsed
// defensively all the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::vmm::emulated_host {

// The command written to the monitor (readline mode echoes it back).
inline constexpr std::string_view cpu_state_query = "info registers -a\n";

// At most this much of the monitor's answer is kept.
inline constexpr std::size_t monitor_reply_max = 256 * 1024;

struct OuterCpuState {
    unsigned index = 0;
    std::uint64_t pc = 0;
    // x86: "CPL 0" to "CPL 3"; arm64: the exception level, "EL0" to "EL2".
    std::string privilege;
    // x86 only (HLT=1): the CPU waits for an interrupt.
    std::optional<bool> halted;
};

// The CPUs in `reply`, the monitor's text after the query was sent, in
// the order QEMU gave them ("CPU#N" headers, then x86's RIP=/EIP=, CPL=,
// HLT= or arm64's PC= and PSTATE's ELn). A CPU without a pc is left out.
std::vector<OuterCpuState> parse_cpu_states(std::string_view reply);

// True once `reply` holds a complete answer: a CPU header followed by the
// monitor's next "(qemu)" prompt.
bool cpu_state_reply_complete(std::string_view reply);

}  // namespace ktstr::vmm::emulated_host
