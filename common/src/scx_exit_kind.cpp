#include "ktstr/common/scx_exit_kind.hpp"

#include <array>

namespace ktstr::scx {
namespace {

// The reasons are scx_exit_reason()'s strings, byte for byte: the guest
// matches the kernel log against them.
constexpr std::array<ExitKindInfo, 9> table{{
    {exit_none, "NONE", ""},
    {exit_done, "DONE", ""},
    {exit_unreg, "UNREG", "unregistered from user space"},
    {exit_unreg_bpf, "UNREG_BPF", "unregistered from BPF"},
    {exit_unreg_kern, "UNREG_KERN", "unregistered from the main kernel"},
    {exit_sysrq, "SYSRQ", "disabled by sysrq-S"},
    {exit_error, "ERROR", "runtime error"},
    {exit_error_bpf, "ERROR_BPF", "scx_bpf_error"},
    {exit_error_stall, "ERROR_STALL", "runnable task stall"},
}};

const ExitKindInfo* find(int kind) noexcept {
    for (const auto& k : table)
        if (k.kind == kind)
            return &k;
    return nullptr;
}

}  // namespace

std::span<const ExitKindInfo> exit_kinds() noexcept { return table; }

std::string_view kind_name(int kind) noexcept {
    const auto* k = find(kind);
    return k ? k->name : "UNKNOWN";
}

std::string_view kind_reason(int kind) noexcept {
    const auto* k = find(kind);
    return k ? k->reason : std::string_view{};
}

std::optional<int> kind_of_reason(std::string_view reason) noexcept {
    if (reason.empty())
        return std::nullopt;
    for (const auto& k : table)
        if (k.reason == reason)
            return k.kind;
    return std::nullopt;
}

}  // namespace ktstr::scx
