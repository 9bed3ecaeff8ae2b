#include "initramfs/module_order.hpp"

#include <map>
#include <set>

#include <fmt/core.h>

#include "initramfs/module_info.hpp"

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;
namespace {

class Orderer {
public:
    Orderer(const ModuleTree* tree, const std::map<std::string, std::string>& params) : tree_(tree), params_(params) {}

    // Adds `name` (found at `file`, or looked up) after its dependencies.
    void visit(const std::string& name, std::optional<fs::path> file, const std::string& needed_by, std::size_t depth) {
        if (done_.contains(name))
            return;
        if (depth > max_module_depth)
            throw ModuleError(fmt::format("module {}: dependency chain deeper than {}", name, max_module_depth));
        if (visiting_.contains(name))
            throw ModuleError(fmt::format("module {}: dependency cycle through {}", name, needed_by));
        if (!file) {
            if (tree_ && tree_->is_builtin(name)) {
                done_.insert(name);
                out_.builtin.push_back(name);
                return;
            }
            if (tree_)
                file = tree_->find(name);
            if (!file)
                throw ModuleError(needed_by.empty()
                                      ? fmt::format("module {}: not in {}", name, where())
                                      : fmt::format("module {} (needed by {}): not in {}", name, needed_by, where()));
        }
        visiting_.insert(name);
        ModuleInfo info;
        try {
            info = parse_module_info(read_module_file(*file));
        } catch (const ModuleError& e) {
            throw ModuleError(fmt::format("module {} ({}): {}", name, file->string(), e.what()));
        }
        for (const auto& dep : info.depends)
            visit(dep, std::nullopt, name, depth + 1);
        visiting_.erase(name);
        done_.insert(name);
        auto p = params_.find(name);
        out_.load_order.push_back({name, *file, p == params_.end() ? std::string() : p->second});
    }

    ModuleOrder take() { return std::move(out_); }

private:
    std::string where() const { return tree_ ? tree_->dir().string() : "(no modules directory given)"; }

    const ModuleTree* tree_;
    const std::map<std::string, std::string>& params_;
    std::set<std::string> visiting_, done_;
    ModuleOrder out_;
};

}  // namespace

ModuleOrder order_modules(const ModuleTree* tree, const std::vector<ModuleRequest>& requests) {
    // Names first (a path request is named by its .modinfo), so that the
    // parameters of a module apply wherever it lands in the order.
    struct Named {
        std::string name;
        std::optional<fs::path> file;
    };
    std::vector<Named> named;
    std::map<std::string, std::string> params;
    for (const auto& r : requests) {
        Named n;
        if (r.module.find('/') != std::string::npos) {
            n.file = r.module;
            try {
                n.name = parse_module_info(read_module_file(*n.file)).name;
            } catch (const ModuleError& e) {
                throw ModuleError(fmt::format("module {}: {}", r.module, e.what()));
            }
            if (n.name.empty())
                n.name = module_name_of_file(n.file->filename().string()).value_or(n.file->filename().string());
        } else {
            n.name = canonical_module_name(r.module);
        }
        if (n.name.empty())
            throw ModuleError("empty module name");
        if (auto [it, inserted] = params.emplace(n.name, r.params); !inserted && it->second != r.params) {
            if (it->second.empty())
                it->second = r.params;
            else if (!r.params.empty())
                throw ModuleError(fmt::format("module {} requested with parameters '{}' and '{}'", n.name, it->second,
                                              r.params));
        }
        named.push_back(std::move(n));
    }
    Orderer o(tree, params);
    for (const auto& n : named)
        o.visit(n.name, n.file, "", 0);
    return o.take();
}

}  // namespace ktstr::vmm::initramfs
