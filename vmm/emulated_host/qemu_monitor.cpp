#include "emulated_host/qemu_monitor.hpp"

#include <charconv>

namespace ktstr::vmm::emulated_host {
namespace {

constexpr std::string_view cpu_header = "CPU#";
constexpr std::string_view prompt = "(qemu)";

// The hex number after `key` (e.g. "RIP=") in `text`, at a word start.
std::optional<std::uint64_t> hex_after(std::string_view text, std::string_view key) {
    for (std::size_t at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
        if (at > 0 && text[at - 1] != ' ' && text[at - 1] != '\n')
            continue;  // "EIP=" inside "RIP=" and the like
        const char* first = text.data() + at + key.size();
        const char* last = text.data() + text.size();
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(first, last, v, 16);
        // A whole number only: an answer cut off mid-number ("RIP=ffff")
        // would give a wrong pc.
        if (ec == std::errc() && end != first && end != last && (*end == ' ' || *end == '\r' || *end == '\n'))
            return v;
    }
    return std::nullopt;
}

std::optional<unsigned> decimal_at(std::string_view text, std::size_t at) {
    unsigned v = 0;
    const char* first = text.data() + at;
    const auto [end, ec] = std::from_chars(first, text.data() + text.size(), v);
    if (ec != std::errc() || end == first)
        return std::nullopt;
    return v;
}

// arm64's PSTATE line names the level as "EL2h", "EL1t", "EL0t".
std::optional<std::string> exception_level(std::string_view section) {
    const auto line = section.find("PSTATE=");
    if (line == std::string_view::npos)
        return std::nullopt;
    const auto el = section.find(" EL", line);
    if (el == std::string_view::npos || el + 3 >= section.size())
        return std::nullopt;
    const char level = section[el + 3];
    if (level < '0' || level > '3')
        return std::nullopt;
    return std::string("EL") + level;
}

}  // namespace

std::vector<OuterCpuState> parse_cpu_states(std::string_view reply) {
    std::vector<OuterCpuState> cpus;
    std::size_t at = reply.find(cpu_header);
    while (at != std::string_view::npos) {
        const std::size_t next = reply.find(cpu_header, at + cpu_header.size());
        const std::string_view section = reply.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at);
        at = next;
        OuterCpuState cpu;
        const auto index = decimal_at(section, cpu_header.size());
        if (!index)
            continue;
        cpu.index = *index;
        // x86_64 in long mode says RIP=, in 32- or 16-bit mode EIP=; arm64 PC=.
        auto pc = hex_after(section, "RIP=");
        if (!pc)
            pc = hex_after(section, "EIP=");
        if (!pc)
            pc = hex_after(section, "PC=");
        if (!pc)
            continue;
        cpu.pc = *pc;
        if (const auto cpl = hex_after(section, "CPL="))
            cpu.privilege = "CPL " + std::to_string(*cpl);
        else if (auto el = exception_level(section))
            cpu.privilege = std::move(*el);
        if (const auto hlt = hex_after(section, "HLT="))
            cpu.halted = *hlt != 0;
        cpus.push_back(std::move(cpu));
    }
    return cpus;
}

bool cpu_state_reply_complete(std::string_view reply) {
    const auto first = reply.find(cpu_header);
    return first != std::string_view::npos && reply.find(prompt, first) != std::string_view::npos;
}

}  // namespace ktstr::vmm::emulated_host
