#include "emulated_host/input_paths.hpp"

#include <algorithm>
#include <system_error>

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;

fs::path absolute_from(const fs::path& path, const fs::path& cwd) {
    fs::path p = path.is_absolute() ? path : cwd / path;
    p = p.lexically_normal();
    // "dir/" normalises to "dir/" with an empty last element; drop it.
    if (!p.has_filename() && p.has_parent_path() && p != p.root_path())
        p = p.parent_path();
    return p;
}

std::vector<fs::path> files_named_by(std::span<const std::string> arguments, const std::vector<fs::path>& outputs,
                                     const fs::path& cwd) {
    std::vector<fs::path> files;
    auto consider = [&](const std::string& text) {
        if (text.empty())
            return;
        const fs::path p = absolute_from(text, cwd);
        for (const char* name : {"/proc", "/sys", "/dev"}) {
            const fs::path pseudo(name);
            auto [a, b] = std::mismatch(p.begin(), p.end(), pseudo.begin(), pseudo.end());
            if (b == pseudo.end())
                return;
        }
        std::error_code ec;
        if (!fs::is_regular_file(p, ec))
            return;
        if (std::find(outputs.begin(), outputs.end(), p) != outputs.end())
            return;
        if (std::find(files.begin(), files.end(), p) == files.end())
            files.push_back(p);
    };
    for (const auto& a : arguments) {
        consider(a);
        if (a.starts_with("--"))
            if (auto eq = a.find('='); eq != std::string::npos)
                consider(a.substr(eq + 1));
    }
    return files;
}

}  // namespace ktstr::vmm::emulated_host
