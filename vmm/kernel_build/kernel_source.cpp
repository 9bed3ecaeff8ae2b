#include "kernel_build/kernel_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "kernel/cache_dir.hpp"
#include "kernel/host_command.hpp"
#include "kernel/scratch_dir.hpp"
#include "kernel_build/build_errors.hpp"
#include "kernel_build/interruption.hpp"
#include "kernel_build/sha256.hpp"
#include "kernel_build/streamed_command.hpp"

namespace ktstr::vmm::kernel_build {
namespace fs = std::filesystem;
namespace {

std::string last_line(const std::string& out) {
    auto end = out.find_last_not_of(" \n\r\t");
    if (end == std::string::npos)
        return "no output";
    auto start = out.rfind('\n', end);
    start = start == std::string::npos ? 0 : start + 1;
    return out.substr(start, end - start + 1);
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// "Version: 6.12.118-1~deb12u1" of the candidate apt would install.
std::optional<std::string> candidate_version(const std::string& package) {
    auto r = kernel::run_host_command({"apt-cache", "show", "--no-all-versions", package});
    if (r.status != 0)
        return std::nullopt;
    std::istringstream lines(r.output);
    std::string line;
    bool ours = false;
    while (std::getline(lines, line)) {
        if (line.starts_with("Package: "))
            ours = line.substr(9) == package;
        else if (ours && line.starts_with("Version: "))
            return line.substr(9);
    }
    return std::nullopt;
}

std::string query_version(const std::string& package) {
    if (auto v = candidate_version(package))
        return *v;
    // Fresh machines often have empty package lists: refresh once if we can.
    if (::geteuid() == 0) {
        auto r = kernel::run_host_command({"apt-get", "update", "-qq"});
        if (r.status != 0)
            throw std::runtime_error("apt-get update failed: " + last_line(r.output));
        if (auto v = candidate_version(package))
            return *v;
    }
    throw std::runtime_error(fmt::format("apt knows no package {}{}", package,
                                         ::geteuid() == 0 ? "" : " (run `apt-get update` as root and retry)"));
}

// What apt's candidate version depends on: its package lists, its
// configuration (sources, pinning) and what is installed; a digest of
// each file's name, size and modification time.
std::string apt_state() {
    Sha256 h;
    std::error_code ec;
    auto add = [&](const fs::path& p) {
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode))
            h.field(fmt::format("{}\t{}\t{}.{:09}", p.string(), st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec));
    };
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator("/var/lib/apt/lists", ec))
        files.push_back(e.path());
    for (fs::recursive_directory_iterator it("/etc/apt", ec), end; !ec && it != end; it.increment(ec))
        files.push_back(it->path());
    files.push_back("/var/lib/dpkg/status");
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        add(f);
    return h.hex();
}

// The candidate version of `package`. Asking apt-cache takes about a
// second where apt keeps no binary cache (containers), which would be most
// of a cache hit; so the answer is kept in sources/.candidate-<package>
// with the apt state it was given in, and apt is asked again only when
// that state changed.
std::string debian_version(const std::string& package) {
    if (!kernel::on_path("apt-get") || !kernel::on_path("apt-cache") || !kernel::on_path("dpkg-deb"))
        throw std::runtime_error("the kernel source comes from apt-get and dpkg-deb (a Debian system); "
                                 "or give a tree with --source DIR");
    const auto root = kernel::ktstr_cache_dir("sources");
    const auto memo = root / (".candidate-" + package);
    const auto state = apt_state();
    {
        std::ifstream in(memo);
        std::string memo_state, version;
        if (std::getline(in, memo_state) && std::getline(in, version) && memo_state == state && !version.empty())
            return version;
    }
    const auto version = query_version(package);
    std::error_code ec;
    fs::create_directories(root, ec);
    const auto temp = root / fmt::format(".candidate-{}.{}", package, ::getpid());
    std::ofstream(temp) << apt_state() << "\n" << version << "\n";  // the state after any apt-get update
    fs::rename(temp, memo, ec);
    if (ec)
        fs::remove(temp, ec);
    return version;
}

fs::path tree_lock(const fs::path& root, const std::string& tree_name) { return root / ("." + tree_name + ".lock"); }

// Downloads `package`=`version` and unpacks its usr/src/*.tar.xz as
// root/tree_name. The tarball goes to tar through a pipe we fill, so the
// percentage shown is the share of it tar has read. Called under root/.lock.
void download_and_unpack(const fs::path& root, const std::string& package, const std::string& version,
                         const std::string& tree_name, const SourceProgress& progress) {
    kernel::ScratchDir scratch(root, ".unpack-");
    const auto what = fmt::format("{} {}", package, version);
    progress(fmt::format("downloading {}", what));
    std::string apt_output;
    StreamedCommand download;
    download.argv = {"apt-get", "download", "-q", package + "=" + version};
    download.cwd = scratch.path();
    download.on_output = [&](std::string_view chunk) { apt_output.append(chunk); };
    download.on_tick = [&] { progress(fmt::format("downloading {}", what)); };
    if (run_streamed(download) != 0)
        throw std::runtime_error(fmt::format("apt-get download {} failed: {}", what, last_line(apt_output)));
    fs::path deb;
    for (const auto& e : fs::directory_iterator(scratch.path()))
        if (e.path().extension() == ".deb")
            deb = e.path();
    if (deb.empty())
        throw std::runtime_error(fmt::format("apt-get download {} produced no .deb", what));

    const auto pkg = scratch.path() / "pkg";
    auto x = kernel::run_host_command({"dpkg-deb", "-x", deb.string(), pkg.string()});
    if (x.status != 0)
        throw std::runtime_error(fmt::format("dpkg-deb -x {} failed: {}", deb.filename().string(), last_line(x.output)));
    fs::remove(deb);
    fs::path tarball;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(pkg / "usr/src", ec))
        if (e.path().filename().string().ends_with(".tar.xz"))
            tarball = e.path();
    if (tarball.empty())
        throw std::runtime_error(fmt::format("{} holds no usr/src/*.tar.xz: not a kernel source package", what));

    const auto tree = scratch.path() / "tree";
    fs::create_directory(tree);
    const auto size = std::max<std::uintmax_t>(fs::file_size(tarball), 1);
    std::string tar_output;
    StreamedCommand tar;
    tar.argv = {"tar", "-x", "-J", "-f", "-", "-C", tree.string(), "--strip-components=1", "--no-same-owner"};
    tar.input = tarball;
    int last_percent = -1;
    tar.on_input_progress = [&](std::uint64_t bytes) {
        const int percent = static_cast<int>(bytes * 100 / size);
        if (percent != last_percent)
            progress(fmt::format("unpacking {}: {}%", what, percent));
        last_percent = percent;
    };
    tar.on_output = [&](std::string_view chunk) {
        if (tar_output.size() < 65536)
            tar_output.append(chunk);
    };
    tar.on_tick = [&] { progress(fmt::format("unpacking {}: {}%", what, std::max(last_percent, 0))); };
    if (run_streamed(tar) != 0)
        throw std::runtime_error(fmt::format("unpacking {} failed: {}", tarball.filename().string(), last_line(tar_output)));
    if (!fs::is_regular_file(tree / "Makefile", ec) || !fs::is_directory(tree / "tools/sched_ext", ec))
        throw std::runtime_error(fmt::format("{} did not unpack into a kernel tree with tools/sched_ext", what));
    fs::rename(tree, root / tree_name, ec);
    if (ec)
        throw std::runtime_error(fmt::format("rename into {}: {}", (root / tree_name).string(), ec.message()));
}

// Removes the cached trees other than `keep` that no build holds, with
// their locks, and interrupted unpacks. Called under root/.lock.
void remove_unused_trees(const fs::path& root, const std::string& keep, const SourceProgress& progress) {
    std::error_code ec;
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(root, ec))
        entries.push_back(e.path());
    for (const auto& p : entries) {
        const auto name = p.filename().string();
        if (name.starts_with(".unpack-")) {
            fs::remove_all(p, ec);  // an unpacker that died: the lock we hold says none is running
            continue;
        }
        if (!name.starts_with("linux-source-") || name == keep || !fs::is_directory(p, ec))
            continue;
        // A build holds its tree's lock shared from before it leaves
        // root/.lock (which we hold) until it ends: a tree whose lock we
        // get is one no build uses, and none can start using it now.
        const auto lock = tree_lock(root, name);
        if (fs::exists(lock, ec) && !kernel::FileLock::try_exclusive(lock))
            continue;
        progress(fmt::format("removing the older source tree {}", name));
        fs::remove_all(p, ec);
        fs::remove(lock, ec);
    }
}

}  // namespace

DebianSource debian_source_version() {
    return {debian_source_package, debian_version(debian_source_package)};
}

KernelSource debian_source(const DebianSource& which, const SourceProgress& progress) {
    const std::string tree_name = "linux-source-" + which.version;
    const auto root = kernel::ktstr_cache_dir("sources");
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", root.string(), ec.message()));

    KernelSource s;
    s.dir = root / tree_name;
    s.description = which.identity();
    s.identity = which.identity();
    kernel::FileLock unpackers(root / ".lock", kernel::FileLock::Mode::exclusive, throw_if_interrupted);
    if (!fs::is_directory(s.dir, ec)) {
        download_and_unpack(root, which.package, which.version, tree_name, progress);
        remove_unused_trees(root, tree_name, progress);
    }
    s.in_use.emplace(tree_lock(root, tree_name), kernel::FileLock::Mode::shared);
    return s;
}

std::optional<std::string> makefile_version(std::string_view makefile) {
    std::string version, patchlevel, sublevel, extraversion;
    bool has_version = false;
    std::istringstream lines{std::string(makefile)};
    std::string line;
    while (std::getline(lines, line)) {
        const auto eq = line.find('=');
        if (eq == std::string::npos)
            continue;
        auto trim = [](std::string t) {
            const auto b = t.find_first_not_of(" \t");
            const auto e = t.find_last_not_of(" \t\r");
            return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
        };
        const auto key = trim(line.substr(0, eq));
        const auto value = trim(line.substr(eq + 1));
        if (key == "VERSION" && !has_version) {
            version = value;
            has_version = true;
        } else if (key == "PATCHLEVEL" && patchlevel.empty()) {
            patchlevel = value;
        } else if (key == "SUBLEVEL" && sublevel.empty()) {
            sublevel = value;
        } else if (key == "EXTRAVERSION" && extraversion.empty()) {
            extraversion = value;
        }
        if (has_version && line.starts_with("NAME"))
            break;  // the version block is over
    }
    if (!has_version || version.empty())
        return std::nullopt;
    auto v = version;
    if (!patchlevel.empty())
        v += "." + patchlevel;
    if (!sublevel.empty())
        v += "." + sublevel;
    return v + extraversion;
}

std::string file_tree_identity(const fs::path& dir, const std::string& version) {
    std::vector<std::string> entries;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0 || S_ISDIR(st.st_mode))
            continue;
        auto line = fs::relative(it->path(), dir).string();
        line += fmt::format("\t{}\t{}.{:09}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        if (S_ISLNK(st.st_mode))
            line += "\t-> " + fs::read_symlink(it->path(), ec).string();
        entries.push_back(std::move(line));
    }
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", dir.string(), ec.message()));
    std::sort(entries.begin(), entries.end());
    Sha256 h;
    for (const auto& e : entries)
        h.field(e);
    return fmt::format("tree {} files {}", version, h.hex());
}

namespace {

// git with its optional locks off: `git diff` would otherwise refresh the
// index, a write into the user's tree.
std::vector<std::string> git(const fs::path& dir, std::initializer_list<std::string> args) {
    std::vector<std::string> argv = {"git", "--no-optional-locks", "-C", dir.string()};
    argv.insert(argv.end(), args);
    return argv;
}

}  // namespace

std::optional<std::string> git_tree_identity(const fs::path& dir) {
    if (!kernel::on_path("git"))
        return std::nullopt;
    auto top = kernel::run_host_command(git(dir, {"rev-parse", "--show-toplevel"}));
    std::error_code ec;
    if (top.status != 0 || !fs::equivalent(last_line(top.output), dir, ec))
        return std::nullopt;  // not a git tree, or a folder inside another project's
    auto head = kernel::run_host_command(git(dir, {"rev-parse", "--verify", "HEAD"}));
    if (head.status != 0)
        return std::nullopt;  // no commit yet

    Sha256 diff;
    StreamedCommand d;
    d.argv = git(dir, {"diff", "--no-ext-diff", "--no-textconv", "--no-color", "--binary", "HEAD"});
    d.on_output = [&](std::string_view chunk) { diff.update(chunk); };
    if (run_streamed(d) != 0)
        throw std::runtime_error(fmt::format("git diff HEAD in {} failed", dir.string()));

    // Untracked files by name, size and modification time: their contents
    // are not in the diff.
    std::string names;
    StreamedCommand u;
    u.argv = git(dir, {"ls-files", "-z", "--others", "--exclude-standard"});
    u.on_output = [&](std::string_view chunk) { names.append(chunk); };
    if (run_streamed(u) != 0)
        throw std::runtime_error(fmt::format("git ls-files in {} failed", dir.string()));
    Sha256 untracked;
    std::string_view rest = names;
    while (!rest.empty()) {
        const auto end = rest.find('\0');
        const std::string name(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        struct stat st {};
        if (::lstat((dir / name).c_str(), &st) == 0)
            untracked.field(fmt::format("{}\t{}\t{}.{:09}", name, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec));
    }
    return fmt::format("git {} diff {} untracked {}", last_line(head.output), diff.hex(), untracked.hex());
}

KernelSource user_source(const fs::path& given) {
    std::error_code ec;
    if (!fs::is_directory(given, ec))
        throw BadBuildInput(fmt::format("source {}: not a directory", given.string()));
    const auto dir = fs::canonical(given, ec);
    if (ec)
        throw BadBuildInput(fmt::format("source {}: {}", given.string(), ec.message()));
    if (!fs::is_regular_file(dir / "Makefile", ec) || !fs::is_regular_file(dir / "Kconfig", ec) ||
        !fs::is_directory(dir / "arch/x86", ec))
        throw BadBuildInput(fmt::format("source {}: not a Linux kernel tree (no Makefile, Kconfig, arch/x86)",
                                        dir.string()));
    const auto version = makefile_version(read_text(dir / "Makefile"));
    if (!version)
        throw BadBuildInput(fmt::format("source {}: its Makefile names no VERSION", dir.string()));
    if (!fs::is_directory(dir / "tools/sched_ext", ec))
        throw BadBuildInput(fmt::format("source {}: no tools/sched_ext (Linux {} is older than 6.12?)", dir.string(),
                                        *version));
    // Kbuild refuses to build out of tree from a tree configured in place.
    if (fs::exists(dir / ".config", ec) || fs::exists(dir / "include/config", ec))
        throw BadBuildInput(fmt::format("source {}: configured in place (.config); run 'make mrproper' there "
                                        "(kernel build builds out of tree and never writes into it)",
                                        dir.string()));
    KernelSource s;
    s.dir = dir;
    s.description = dir.string();
    auto git_identity = git_tree_identity(dir);
    s.identity = git_identity ? *git_identity : file_tree_identity(dir, *version);
    return s;
}

}  // namespace ktstr::vmm::kernel_build
