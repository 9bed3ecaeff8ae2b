#include "kernel_build/config_survival.hpp"

#include <map>

#include <fmt/core.h>

#include "kernel/kernel_config.hpp"

namespace ktstr::vmm::kernel_build {

std::vector<LostOption> lost_options(const std::vector<ConfigFragment>& fragments, std::string_view final_config) {
    std::vector<std::string> order;
    std::map<std::string, std::string> asked;
    for (const auto& f : fragments)
        for (const auto& o : f.options) {
            if (!asked.contains(o.name))
                order.push_back(o.name);
            asked[o.name] = o.value;
        }
    const auto final_values = kernel::KernelConfig::parse(std::string(final_config));
    std::vector<LostOption> lost;
    for (const auto& name : order) {
        const auto& want = asked[name];
        const auto now = final_values.value(name);
        const bool met = want == "n" ? now.empty() : now == want || (want == "m" && now == "y");
        if (!met)
            lost.push_back({name, want, now});
    }
    return lost;
}

std::string describe(const LostOption& lost) {
    return fmt::format("{}={} did not survive olddefconfig (now: {})", lost.name, lost.asked,
                       lost.now.empty() ? "not set" : lost.now);
}

}  // namespace ktstr::vmm::kernel_build
