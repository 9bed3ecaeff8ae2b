// A kernel's build configuration (boot/config-<release>, "CONFIG_X=y"
// lines): what ktstr asks of a kernel before booting it.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace ktstr::vmm::kernel {

class KernelConfig {
public:
    // Throws std::runtime_error when the file cannot be read.
    static KernelConfig read(const std::filesystem::path& file);
    static KernelConfig parse(const std::string& text);

    // "y", "m", a number or a quoted string; "" when unset.
    std::string value(const std::string& option) const;
    bool built_in(const std::string& option) const { return value(option) == "y"; }
    bool enabled(const std::string& option) const {  // y or m
        const auto v = value(option);
        return v == "y" || v == "m";
    }

private:
    std::map<std::string, std::string> values_;
};

}  // namespace ktstr::vmm::kernel
