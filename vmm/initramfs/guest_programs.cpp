#include "initramfs/guest_programs.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string_view>
#include <stdexcept>

#include <dlfcn.h>
#include <elf.h>
#include <unistd.h>

#include <fmt/core.h>

#include "initramfs/elf_dynamic.hpp"
#include "kernel/host_command.hpp"

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;

fs::path ktstr_code_dir() {
    // dladdr names the object that holds this function: the program itself
    // when it is linked in statically, the shared library otherwise.
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&ktstr_code_dir), &info) != 0 && info.dli_fname != nullptr) {
        std::error_code ec;
        const fs::path object = fs::canonical(info.dli_fname, ec);
        if (!ec && object.filename().string().find(".so") != std::string::npos)
            return object.parent_path();
    }
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : self.parent_path();
}

fs::path ktstr_vmm_program() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && self.filename() == "ktstr-vmm")
        return self;
    const auto dir = ktstr_code_dir();
    std::vector<fs::path> candidates{dir / "ktstr-vmm", (dir / ".." / "bin" / "ktstr-vmm").lexically_normal()};
    for (const auto& c : candidates)
        if (fs::is_regular_file(c, ec) && ::access(c.c_str(), X_OK) == 0)
            return c;
    throw std::runtime_error(fmt::format("ktstr-vmm not found (looked at {} and {}); build or install it",
                                         candidates[0].string(), candidates[1].string()));
}

namespace {

// Where a build tree (this one, or the arm64 cross build's) keeps program
// `name`: guest/init/ktstr-init, guest/selftest/ktstr-selftest,
// vmm/ktstr-vmm; another name under guest/<name>/.
fs::path in_build_tree(const std::string& name) {
    if (name == "ktstr-vmm")
        return fs::path("vmm") / name;
    const std::string sub = name == "ktstr-init" ? "init" : name == "ktstr-selftest" ? "selftest" : name;
    return fs::path("guest") / sub / name;
}

}  // namespace

std::vector<fs::path> guest_program_candidates(const std::string& name) {
    std::vector<fs::path> out;
    if (const char* dir = std::getenv(guest_bin_dir_variable); dir && *dir)
        out.push_back(fs::path(dir) / name);
    if (const auto bin = ktstr_code_dir(); !bin.empty()) {
        out.push_back((bin / ".." / in_build_tree(name)).lexically_normal());
        out.push_back((bin / ".." / "libexec" / "ktstr" / name).lexically_normal());
    }
    return out;
}

std::optional<fs::path> find_guest_program(const std::string& name) {
    std::error_code ec;
    for (const auto& c : guest_program_candidates(name))
        if (fs::is_regular_file(c, ec) && ::access(c.c_str(), X_OK) == 0)
            return c;
    return std::nullopt;
}

fs::path guest_program(const std::string& name) {
    if (auto p = find_guest_program(name))
        return *p;
    std::string where;
    for (const auto& c : guest_program_candidates(name))
        where += (where.empty() ? "" : ", ") + c.string();
    throw std::runtime_error(fmt::format("{} not found (looked at {}); build the target {} or set {}", name,
                                         where.empty() ? "nothing" : where, name, guest_bin_dir_variable));
}

namespace {

// The e_machine of an ELF file, or 0 when it is none (or a broken one).
std::uint16_t elf_machine(const fs::path& file) {
    try {
        const auto info = read_elf_dynamic(file);
        return info ? info->machine : 0;
    } catch (const ElfError&) {
        return 0;
    }
}

constexpr std::uint16_t em_aarch64 = EM_AARCH64;

// The first candidate that is an executable arm64 ELF file: a program of
// another architecture (an x86_64 one in KTSTR_ARM64_BIN_DIR) would only
// fail inside the guest, minutes later.
fs::path first_executable(const std::vector<fs::path>& candidates, const std::string& name, const char* how) {
    std::error_code ec;
    for (const auto& c : candidates)
        if (fs::is_regular_file(c, ec) && ::access(c.c_str(), X_OK) == 0) {
            if (elf_machine(c) != em_aarch64)
                throw std::runtime_error(fmt::format("{}: {} is not an arm64 program; {}", name, c.string(), how));
            return c;
        }
    std::string where;
    for (const auto& c : candidates)
        where += (where.empty() ? "" : ", ") + c.string();
    throw std::runtime_error(fmt::format("{} not found (looked at {}); {}", name, where, how));
}

}  // namespace

std::vector<fs::path> arm64_program_candidates(const std::string& name) {
    std::vector<fs::path> out;
    if (const char* dir = std::getenv(arm64_bin_dir_variable); dir && *dir)
        out.push_back(fs::path(dir) / name);
    if (const auto bin = ktstr_code_dir(); !bin.empty())
        out.push_back((bin / ".." / "libexec" / "ktstr" / "arm64" / name).lexically_normal());
#ifdef KTSTR_ARM64_BUILD_DIR
    out.push_back(fs::path(KTSTR_ARM64_BUILD_DIR) / in_build_tree(name));
#endif
    return out;
}

namespace {

constexpr const char* arm64_how = "run scripts/build_arm64.sh (the arm64 cross build) or set KTSTR_ARM64_BIN_DIR";

// Another architecture than this program's can only be arm64 (x86_64
// guests run on x86_64 machines only).
void check_foreign(kernel::KernelArch arch) {
    if (arch != kernel::KernelArch::arm64)
        throw std::runtime_error(fmt::format("no {} guest programs on a {} machine", kernel::arch_name(arch),
                                             kernel::arch_name(kernel::native_arch)));
}

}  // namespace

fs::path guest_program_for(const std::string& name, kernel::KernelArch arch) {
    if (arch == kernel::native_arch)
        return guest_program(name);
    check_foreign(arch);
    return first_executable(arm64_program_candidates(name), name + " for arm64", arm64_how);
}

fs::path ktstr_vmm_program_for(kernel::KernelArch arch) {
    if (arch == kernel::native_arch)
        return ktstr_vmm_program();
    check_foreign(arch);
    return first_executable(arm64_program_candidates("ktstr-vmm"), "ktstr-vmm for arm64", arm64_how);
}

fs::path busybox_for(kernel::KernelArch arch) {
    if (arch == kernel::native_arch)
        return default_busybox;
    check_foreign(arch);
    fs::path sysroot;
    if (const char* s = std::getenv("KTSTR_ARM64_SYSROOT"); s && *s)
        sysroot = s;
    else if (const char* c = std::getenv("XDG_CACHE_HOME"); c && *c)
        sysroot = fs::path(c) / "ktstr" / "arm64-sysroot";
    else if (const char* h = std::getenv("HOME"); h && *h)
        sysroot = fs::path(h) / ".cache" / "ktstr" / "arm64-sysroot";
    return first_executable({sysroot / "bin" / "busybox"}, "busybox for arm64",
                            "run scripts/setup_arm64.sh, which unpacks Debian's busybox-static:arm64 there");
}

std::vector<std::string> required_applets() {
    return {"sh", "true", "false", "nproc", "cat", "echo", "ls", "mount", "dmesg", "sleep"};
}

namespace {

// The e_machine of this program's own architecture.
#if defined(__aarch64__)
constexpr std::uint16_t own_machine = em_aarch64;
#else
constexpr std::uint16_t own_machine = EM_X86_64;
#endif
// More than any busybox has (Debian's: 269); a crafted file stops here.
constexpr std::size_t max_applets = 4096;

// Plain names only: a name with '/' or a leading '.' would escape /bin.
bool plain_applet(const std::string& name) {
    return !name.empty() && name != "init" && name != "linuxrc" && name.find('/') == std::string::npos &&
           !name.starts_with('.');
}

// A binary of another architecture cannot be asked (`--list` would not
// run here): its applet names are read from the table busybox keeps them
// in, one NUL-terminated string sorted by strcmp, starting "[", "[[" (both
// always built in by Debian). The table ends where the order or the
// alphabet of names does. Checked against `--list` on the host's busybox.
std::vector<std::string> applets_from_table(const fs::path& busybox, std::string_view data) {
    const std::string_view start("\0[\0[[\0", 6);
    const auto at = data.find(start);
    if (at == std::string_view::npos)
        throw std::runtime_error(fmt::format("{}: no applet table found (not a busybox binary?)", busybox.string()));
    std::vector<std::string> names;
    std::string_view prev;
    for (std::size_t pos = at + 1; pos < data.size();) {
        const auto end = data.find('\0', pos);
        if (end == std::string_view::npos)
            break;
        const std::string_view name = data.substr(pos, end - pos);
        const bool alphabet = !name.empty() && name.size() <= 64 &&
                              name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-.[") == std::string_view::npos;
        if (!alphabet || name <= prev)
            break;
        if (names.size() == max_applets)
            throw std::runtime_error(fmt::format("{}: more than {} applet names", busybox.string(), max_applets));
        names.emplace_back(name);
        prev = name;
        pos = end + 1;
    }
    return names;
}

// The table's names an image may link (plain_applet).
std::vector<std::string> plain_table_applets(const fs::path& busybox, std::string_view data) {
    std::vector<std::string> applets;
    for (auto& name : applets_from_table(busybox, data))
        if (plain_applet(name))
            applets.push_back(std::move(name));
    return applets;
}

// The binary, read once and bounded: Debian's static busybox is about 2 MiB.
std::string read_busybox(const fs::path& busybox) {
    constexpr std::uintmax_t max_busybox_bytes = 32u << 20;
    std::error_code ec;
    const auto size = fs::file_size(busybox, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {} (install busybox-static)", busybox.string(), ec.message()));
    if (size > max_busybox_bytes || size < 64)
        throw std::runtime_error(fmt::format("{}: {} bytes is no busybox binary", busybox.string(), size));
    std::string data(static_cast<std::size_t>(size), '\0');
    {
        std::ifstream f(busybox, std::ios::binary);
        if (!f.read(data.data(), static_cast<std::streamsize>(size)))
            throw std::runtime_error(fmt::format("{}: cannot read it", busybox.string()));
    }
    return data;
}

}  // namespace

std::vector<std::string> busybox_table_applets(const fs::path& busybox) {
    return plain_table_applets(busybox, read_busybox(busybox));
}

std::vector<std::string> busybox_applets(const fs::path& busybox) {
    const std::string data = read_busybox(busybox);
    const bool elf = data.compare(0, 4, "\x7f" "ELF") == 0;
    const auto machine = static_cast<std::uint16_t>(static_cast<unsigned char>(data[18]) |
                                                    (static_cast<unsigned char>(data[19]) << 8));
    std::vector<std::string> applets;
    if (elf && machine != own_machine) {
        // The one foreign guest there is: arm64 on x86_64.
        if (machine != em_aarch64)
            throw std::runtime_error(fmt::format("{}: a busybox for machine {}, neither this one nor arm64",
                                                 busybox.string(), machine));
        applets = plain_table_applets(busybox, data);
    } else {
        kernel::CommandResult r;
        try {
            r = kernel::run_host_command({busybox.string(), "--list"});
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(
                fmt::format("{}: cannot run: {} (install busybox-static)", busybox.string(), e.what()));
        }
        if (r.status != 0)
            throw std::runtime_error(fmt::format("{} --list failed with status {}", busybox.string(), r.status));
        std::size_t pos = 0;
        while (pos < r.output.size()) {
            auto end = r.output.find('\n', pos);
            if (end == std::string::npos)
                end = r.output.size();
            auto name = r.output.substr(pos, end - pos);
            pos = end + 1;
            if (plain_applet(name))
                applets.push_back(std::move(name));
        }
    }
    std::sort(applets.begin(), applets.end());
    applets.erase(std::unique(applets.begin(), applets.end()), applets.end());
    for (const auto& a : required_applets())
        if (!std::binary_search(applets.begin(), applets.end(), a))
            throw std::runtime_error(fmt::format("{} has no '{}' applet", busybox.string(), a));
    return applets;
}

}  // namespace ktstr::vmm::initramfs
