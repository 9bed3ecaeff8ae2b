#include "kernel/kernel_config.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::kernel {

KernelConfig KernelConfig::read(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        throw std::runtime_error(fmt::format("{}: cannot read", file.string()));
    std::stringstream s;
    s << in.rdbuf();
    return parse(s.str());
}

KernelConfig KernelConfig::parse(const std::string& text) {
    KernelConfig c;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (line.starts_with("CONFIG_") && eq != std::string::npos)
            c.values_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return c;
}

std::string KernelConfig::value(const std::string& option) const {
    auto it = values_.find(option);
    return it == values_.end() ? std::string() : it->second;
}

}  // namespace ktstr::vmm::kernel
