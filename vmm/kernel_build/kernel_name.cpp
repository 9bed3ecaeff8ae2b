#include "kernel_build/kernel_name.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "kernel/kernel_supply.hpp"

namespace ktstr::vmm::kernel_build {

std::optional<std::string> name_problem(std::string_view name) {
    auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    auto allowed = [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'; };
    if (name.empty() || name.size() > 64)
        return fmt::format("kernel name '{}': 1 to 64 characters", name);
    if (!std::all_of(name.begin(), name.end(), allowed))
        return fmt::format("kernel name '{}': only letters, digits, '.', '_' and '-'", name);
    if (!letter(name.front()))
        return fmt::format("kernel name '{}': must start with a letter (releases start with a digit)", name);
    if (name == kernel::default_link || name == kernel::sched_ext_link)
        return fmt::format("kernel name '{}' is reserved (ktstr-vmm sets that link itself)", name);
    return std::nullopt;
}

}  // namespace ktstr::vmm::kernel_build
