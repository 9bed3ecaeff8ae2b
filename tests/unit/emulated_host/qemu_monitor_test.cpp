#include <catch2/catch.hpp>

#include <string>

#include "emulated_host/qemu_monitor.hpp"

using namespace ktstr::vmm::emulated_host;

namespace {
// QEMU 7.2's answer to "info registers -a" in readline mode, cut to the
// lines that matter: the echo with its cursor escapes, then one section
// per CPU, then the next prompt.
const std::string x86_reply =
    "info registers -a\x1b[K\r\n"
    "\r\nCPU#0\r\n"
    "RAX=0000000000000000 RBX=ffffffff82a0f940 RCX=0000000000000001 RDX=0000000000000000\r\n"
    "RIP=ffffffff81b4c2b6 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n"
    "CR0=80050033 CR2=00007f2f6d0a6000 CR3=000000000460a000 CR4=00350ef0\r\n"
    "\r\nCPU#1\r\n"
    "EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000000\r\n"
    "EIP=00000003 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\n"
    "(qemu) ";

const std::string arm64_reply =
    "info registers -a\r\n"
    "CPU#0\r\n"
    " PC=ffff800008ab12c4 X00=0000000000000000 X01=0000000000000000\r\n"
    "PSTATE=604003c9 -ZC- EL2h  SVCR=00000000 --  BTYPE=0     FPCR=00000000 FPSR=00000000\r\n"
    "CPU#1\r\n"
    " PC=0000ffff9d3e1a40 X00=0000000000000001 X01=0000000000000000\r\n"
    "PSTATE=80001000 N--- EL0t\r\n"
    "(qemu) ";
}  // namespace

TEST_CASE("qemu monitor: x86_64 CPUs: pc from RIP or EIP, CPL, halted") {
    const auto cpus = parse_cpu_states(x86_reply);
    REQUIRE(cpus.size() == 2);
    CHECK(cpus[0].index == 0);
    CHECK(cpus[0].pc == 0xffffffff81b4c2b6ull);
    CHECK(cpus[0].privilege == "CPL 0");
    CHECK(cpus[0].halted == std::optional<bool>(true));
    CHECK(cpus[1].index == 1);
    CHECK(cpus[1].pc == 3);  // EIP=, not the CPU header's digits or RIP's tail
    CHECK(cpus[1].halted == std::optional<bool>(false));
}

TEST_CASE("qemu monitor: arm64 CPUs: pc from PC=, the exception level from PSTATE") {
    const auto cpus = parse_cpu_states(arm64_reply);
    REQUIRE(cpus.size() == 2);
    CHECK(cpus[0].pc == 0xffff800008ab12c4ull);
    CHECK(cpus[0].privilege == "EL2");
    CHECK_FALSE(cpus[0].halted.has_value());
    CHECK(cpus[1].pc == 0x0000ffff9d3e1a40ull);
    CHECK(cpus[1].privilege == "EL0");
}

TEST_CASE("qemu monitor: the answer is complete at the prompt after a CPU section") {
    CHECK_FALSE(cpu_state_reply_complete(""));
    CHECK_FALSE(cpu_state_reply_complete("info registers -a\r\n"));
    CHECK_FALSE(cpu_state_reply_complete(x86_reply.substr(0, x86_reply.size() - 7)));
    CHECK(cpu_state_reply_complete(x86_reply));
    CHECK(cpu_state_reply_complete(arm64_reply));
}

TEST_CASE("qemu monitor: cut or garbled answers give what parses and nothing else") {
    CHECK(parse_cpu_states("").empty());
    CHECK(parse_cpu_states("(qemu) ").empty());
    CHECK(parse_cpu_states("CPU#").empty());
    CHECK(parse_cpu_states("CPU#x\r\nRIP=ffff\r\n").empty());   // no index
    CHECK(parse_cpu_states("CPU#0\r\nRAX=0000\r\n").empty());   // no pc
    CHECK(parse_cpu_states("CPU#0\r\nRIP=\r\n").empty());       // an empty number
    CHECK(parse_cpu_states("CPU#0\r\nXRIP=12\r\n").empty());    // not at a word's start
    CHECK(parse_cpu_states("CPU#0\r\nRIP=ffffffff81b4").empty());   // cut mid-number
    // Cut in the middle of the second CPU: the first is still whole.
    const auto cut = parse_cpu_states(x86_reply.substr(0, x86_reply.find("EIP=")));
    REQUIRE(cut.size() == 1);
    CHECK(cut[0].pc == 0xffffffff81b4c2b6ull);
}
