#include "initramfs/library_closure.hpp"

#include <algorithm>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <elf.h>
#include <glob.h>

#include <fmt/core.h>

#include "initramfs/elf_dynamic.hpp"

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;
namespace {

constexpr int max_include_depth = 8;

void read_conf(const fs::path& file, int depth, std::vector<fs::path>& out) {
    if (depth > max_include_depth)
        return;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos)
            continue;
        line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
        if (line.starts_with("include") && line.size() > 7 && (line[7] == ' ' || line[7] == '\t')) {
            auto pattern = line.substr(line.find_first_not_of(" \t", 7));
            if (!pattern.starts_with('/'))
                pattern = (file.parent_path() / pattern).string();
            glob_t g{};
            if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
                for (std::size_t i = 0; i < g.gl_pathc; ++i)
                    read_conf(g.gl_pathv[i], depth + 1, out);
            ::globfree(&g);
        } else if (line.starts_with("hwcap")) {
            continue;
        } else if (line.starts_with('/')) {
            // "dir=TYPE" (old libc5 syntax) names the directory before '='.
            out.emplace_back(line.substr(0, line.find('=')));
        }
    }
}

// $ORIGIN / ${ORIGIN} expanded, or nullopt for a run path naming another
// dynamic string token ($LIB, $PLATFORM): rare, and not worth guessing.
std::optional<std::string> expand_origin(const std::string& entry, const fs::path& origin) {
    std::string out;
    for (std::size_t i = 0; i < entry.size();) {
        if (entry[i] != '$') {
            out.push_back(entry[i++]);
            continue;
        }
        if (entry.compare(i, 7, "$ORIGIN") == 0) {
            out += origin.string();
            i += 7;
        } else if (entry.compare(i, 9, "${ORIGIN}") == 0) {
            out += origin.string();
            i += 9;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

struct SearchDir {
    fs::path host;
    fs::path guest;
};

struct Object {
    fs::path host;   // as found (may be a symlink)
    fs::path guest;
    ElfDynamic info;
};

class Closure {
public:
    Closure(const LibrarySearch& search, std::uint16_t machine) : search_(search), machine_(machine) {}

    std::vector<RuntimeFile> run(const fs::path& host_program, const fs::path& guest_program, const ElfDynamic& info) {
        if (!info.interpreter.empty()) {
            std::error_code ec;
            if (!fs::exists(info.interpreter, ec))
                throw ElfError(fmt::format("{}: its interpreter {} is not on this host", host_program.string(),
                                           info.interpreter));
            add({info.interpreter, info.interpreter});
            // The interpreter is also a library libc names (by soname): the
            // loader matches it to the one already mapped.
            sonames_.insert(fs::path(info.interpreter).filename().string());
        }
        // DT_RPATH of the program applies to every library it pulls in,
        // unless the asking object has DT_RUNPATH.
        program_rpath_ = search_dirs(info.rpath, host_program, guest_program);
        queue_.push_back({host_program, guest_program, info});
        while (!queue_.empty()) {
            auto obj = std::move(queue_.front());
            queue_.pop_front();
            for (const auto& name : obj.info.needed)
                need(name, obj);
        }
        return std::move(files_);
    }

private:
    std::vector<SearchDir> search_dirs(const std::vector<std::string>& entries, const fs::path& host_obj,
                                       const fs::path& guest_obj) {
        std::vector<SearchDir> out;
        std::error_code ec;
        auto real = fs::canonical(host_obj, ec);
        const auto host_origin = (ec ? host_obj : real).parent_path();
        for (const auto& e : entries) {
            auto host = expand_origin(e, host_origin);
            auto guest = expand_origin(e, guest_obj.parent_path());
            if (!host || !guest || !fs::path(*host).is_absolute())
                continue;
            // An absolute run path (a build tree, an install prefix) may
            // lie where the guest mounts over it (/tmp, /run): its
            // libraries go to /usr/lib, where the loader looks by default.
            const bool relative_to_origin =
                e.find("$ORIGIN") != std::string::npos || e.find("${ORIGIN}") != std::string::npos;
            out.push_back({fs::path(*host).lexically_normal(),
                           relative_to_origin ? fs::path(*guest).lexically_normal() : fs::path("/usr/lib")});
        }
        return out;
    }

    // A library file of this program's machine: same class (all we read
    // is ELF64) and e_machine. Skips /lib32 and other-arch copies.
    std::optional<ElfDynamic> usable(const fs::path& p) {
        std::error_code ec;
        if (!fs::is_regular_file(p, ec))
            return std::nullopt;
        try {
            auto info = read_elf_dynamic(p);
            if (!info || info->machine != machine_)
                return std::nullopt;
            return info;
        } catch (const ElfError&) {
            return std::nullopt;  // the loader skips a broken candidate too
        }
    }

    void need(const std::string& name, const Object& by) {
        if (sonames_.contains(name))
            return;
        if (name.find('/') != std::string::npos) {
            if (auto info = usable(name)) {
                sonames_.insert(name);
                found({name, name, *info});
                return;
            }
            throw ElfError(fmt::format("{}: needs {}, which is not on this host", by.host.string(), name));
        }
        std::vector<SearchDir> dirs;
        if (by.info.runpath.empty()) {
            for (auto& d : search_dirs(by.info.rpath, by.host, by.guest))
                dirs.push_back(d);
            for (auto& d : program_rpath_)
                dirs.push_back(d);
        } else {
            dirs = search_dirs(by.info.runpath, by.host, by.guest);
        }
        for (const auto& d : search_.conf_dirs) {
            const bool system = std::find(search_.system_dirs.begin(), search_.system_dirs.end(), d) !=
                                search_.system_dirs.end();
            dirs.push_back({d, system ? d : fs::path("/usr/lib")});
        }
        for (const auto& d : search_.system_dirs)
            dirs.push_back({d, d});
        for (const auto& d : dirs) {
            if (auto info = usable(d.host / name)) {
                sonames_.insert(name);
                found({d.host / name, d.guest / name, *info});
                return;
            }
        }
        throw ElfError(fmt::format("{}: needs {}, which the loader would not find on this host", by.host.string(), name));
    }

    void found(Object obj) {
        add({obj.host, obj.guest});
        queue_.push_back(std::move(obj));
    }

    void add(RuntimeFile f) {
        if (files_.size() == max_libraries)
            throw ElfError(fmt::format("more than {} shared libraries", max_libraries));
        files_.push_back(std::move(f));
    }

    const LibrarySearch& search_;
    std::uint16_t machine_;
    std::vector<SearchDir> program_rpath_;
    std::set<std::string> sonames_;
    std::deque<Object> queue_;
    std::vector<RuntimeFile> files_;
};

}  // namespace

std::vector<fs::path> read_ld_so_conf(const fs::path& file) {
    std::vector<fs::path> out;
    read_conf(file, 0, out);
    return out;
}

LibrarySearch LibrarySearch::host() {
    LibrarySearch s;
    s.conf_dirs = read_ld_so_conf("/etc/ld.so.conf");
#if defined(__x86_64__)
    const char* triplet = "x86_64-linux-gnu";
#elif defined(__aarch64__)
    const char* triplet = "aarch64-linux-gnu";
#else
    const char* triplet = nullptr;
#endif
    if (triplet) {
        s.system_dirs.push_back(fs::path("/lib") / triplet);
        s.system_dirs.push_back(fs::path("/usr/lib") / triplet);
    }
    s.system_dirs.emplace_back("/lib");
    s.system_dirs.emplace_back("/usr/lib");
    return s;
}

std::vector<RuntimeFile> runtime_files(const fs::path& host_program, const fs::path& guest_program,
                                       const LibrarySearch& search) {
    auto info = read_elf_dynamic(host_program);
    if (!info || (info->interpreter.empty() && info->needed.empty()))
        return {};
    return Closure(search, info->machine).run(host_program, guest_program, *info);
}

}  // namespace ktstr::vmm::initramfs
