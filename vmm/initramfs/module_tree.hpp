// The modules of one kernel release: a lib/modules/<release> directory as
// Debian's packages unpack it (kernel/**/*.ko[.gz|.xz|.zst], and
// modules.builtin naming what is built into the kernel).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace ktstr::vmm::initramfs {

class ModuleTree {
public:
    // Indexes every module file under `dir` by canonical name (the file
    // name without .ko and compression suffix, '-' read as '_'). Throws
    // ModuleError when `dir` is not a directory or holds more than 65536
    // module files.
    explicit ModuleTree(std::filesystem::path dir);

    const std::filesystem::path& dir() const noexcept { return dir_; }
    // The release: the directory's name.
    std::string release() const { return dir_.filename().string(); }

    std::optional<std::filesystem::path> find(const std::string& name) const;
    bool is_builtin(const std::string& name) const;
    std::size_t size() const noexcept { return files_.size(); }

private:
    std::filesystem::path dir_;
    std::map<std::string, std::filesystem::path> files_;
    std::set<std::string> builtin_;
};

// "kernel/arch/x86/kvm/kvm-amd.ko.xz" -> "kvm_amd"; nullopt for a file that
// is not a module.
std::optional<std::string> module_name_of_file(const std::string& file_name);

}  // namespace ktstr::vmm::initramfs
