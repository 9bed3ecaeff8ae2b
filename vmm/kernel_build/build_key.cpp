#include "kernel_build/build_key.hpp"

#include "kernel_build/sha256.hpp"

namespace ktstr::vmm::kernel_build {

std::string config_for_key(std::string_view config) {
    std::string out;
    while (!config.empty()) {
        const auto eol = config.find('\n');
        const auto line = config.substr(0, eol);
        config = eol == std::string_view::npos ? std::string_view() : config.substr(eol + 1);
        if (line.empty() || (line.front() == '#' && !(line.starts_with("# CONFIG_") && line.ends_with(" is not set"))))
            continue;
        out += line;
        out += '\n';
    }
    return out;
}

std::string build_key(std::string_view source_identity, std::string_view final_config) {
    return Sha256().field(build_procedure).field(source_identity).field(config_for_key(final_config)).hex();
}

std::string local_version(std::string_view key) { return "-ktstr-" + std::string(key.substr(0, 12)); }

std::string recipe_key(std::string_view source_identity, const std::vector<std::string>& normalised_fragments,
                       std::string_view toolchain) {
    Sha256 h;
    h.field(build_procedure).field(source_identity).field(toolchain);
    for (const auto& f : normalised_fragments)
        h.field(f);
    return h.hex();
}

}  // namespace ktstr::vmm::kernel_build
