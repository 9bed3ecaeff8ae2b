#include "kernel_build/kernel_builder.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sched.h>
#include <sys/utsname.h>

#include <fmt/core.h>

#include "kernel/cache_link.hpp"
#include "kernel/file_lock.hpp"
#include "kernel/host_command.hpp"
#include "kernel/scratch_dir.hpp"
#include "kernel_build/build_errors.hpp"
#include "kernel_build/build_key.hpp"
#include "kernel_build/build_progress.hpp"
#include "kernel_build/build_record.hpp"
#include "kernel_build/builtin_fragments.hpp"
#include "kernel_build/config_fragment.hpp"
#include "kernel_build/config_survival.hpp"
#include "kernel_build/interruption.hpp"
#include "kernel_build/kernel_name.hpp"
#include "kernel_build/kernel_source.hpp"
#include "kernel_build/progress_line.hpp"
#include "kernel_build/sha256.hpp"
#include "kernel_build/streamed_command.hpp"

namespace ktstr::vmm::kernel_build {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace {

constexpr unsigned max_jobs = 1024;
constexpr std::size_t failed_logs_kept = 10;
// The BPF compiler of the schedulers: tools/sched_ext/README.md asks for
// clang >= 16 (64-bit enums in BTF), Debian 12's default is 14; bookworm
// ships clang-19 beside it.
constexpr const char* bpf_clang = "clang-19";
constexpr const char* bpf_strip = "llvm-strip-19";

std::string text_of(const fs::path& file) {
    std::ifstream in(file);
    if (!in)
        throw std::runtime_error(fmt::format("{}: cannot read", file.string()));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::trunc);
    out << text;
    if (!out.flush())
        throw std::runtime_error(fmt::format("{}: cannot write", file.string()));
}

unsigned default_jobs() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return static_cast<unsigned>(CPU_COUNT(&set));
    return 1;
}

// Fails early, in one line, when the host lacks a tool, rather than minutes
// into make. Debian package names, so the line says what to install.
void check_tools(bool debian_source) {
    struct Tool {
        const char* program;
        const char* package;
    };
    std::vector<Tool> tools = {{"make", "make"},      {"gcc", "gcc"},     {"ld", "binutils"},
                               {"flex", "flex"},      {"bison", "bison"}, {"bc", "bc"},
                               {"pahole", "dwarves"}, {"zstd", "zstd"},   {"perl", "perl"},
                               {bpf_clang, "clang-19"}, {bpf_strip, "llvm-19"}};
    if (debian_source) {
        tools.push_back({"tar", "tar"});
        tools.push_back({"xz", "xz-utils"});
    }
    std::vector<std::string> missing;
    for (const auto& t : tools)
        if (!kernel::on_path(t.program))
            missing.push_back(t.package);
    std::error_code ec;
    if (!fs::exists("/usr/include/gelf.h", ec))
        missing.push_back("libelf-dev");  // objtool, and the schedulers' libbpf
    if (!missing.empty()) {
        std::sort(missing.begin(), missing.end());
        missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
        std::string list;
        for (const auto& m : missing)
            list += (list.empty() ? "" : " ") + m;
        throw std::runtime_error(fmt::format("kernel build needs the Debian packages {} (scripts/setup.sh installs them)",
                                             list));
    }
}

// The tool versions that shape a configuration (Kconfig asks the compiler,
// the linker and pahole) or the schedulers: part of the recipe.
std::string toolchain_versions() {
    std::string out;
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"gcc", "--version"}, {"ld", "--version"}, {"pahole", "--version"}, {bpf_clang, "--version"}}) {
        auto r = kernel::run_host_command(argv);
        out += argv[0] + ": " + r.output.substr(0, r.output.find('\n')) + "\n";
    }
    return out;
}

// The environment of every make: only what a build needs, so the user's
// ARCH, CC, KCFLAGS, MAKEFLAGS and the like cannot change what a key names;
// C messages so "error:" can be found in the log; fixed build stamps so
// the same key builds the same kernel.
std::vector<std::string> make_environment() {
    std::vector<std::string> env = {
        "LC_ALL=C",
        "KBUILD_BUILD_TIMESTAMP=1970-01-01 00:00:00 UTC",
        "KBUILD_BUILD_USER=ktstr",
        "KBUILD_BUILD_HOST=ktstr",
        "KBUILD_BUILD_VERSION=1",
    };
    for (const char* name : {"PATH", "HOME", "TMPDIR"})
        if (const char* v = std::getenv(name); v && *v)
            env.push_back(fmt::format("{}={}", name, v));
    return env;
}

// kernels/.build-XXXXXX: the object trees, the staged result and the log of
// one build, removed with everything in it when the build ends. Its .lock
// is held for the build's life, so a later build can tell the folder of a
// killed build (lock free) from one still running.
class WorkDir {
public:
    explicit WorkDir(const fs::path& root) : dir_(root, ".build-"), lock_(dir_.path() / ".lock") {}
    const fs::path& path() const { return dir_.path(); }

    static void remove_stale(const fs::path& root) {
        std::error_code ec;
        std::vector<fs::path> stale;
        for (const auto& e : fs::directory_iterator(root, ec)) {
            if (!e.path().filename().string().starts_with(".build-"))
                continue;
            if (fs::exists(e.path() / ".lock", ec)) {
                if (kernel::FileLock::try_exclusive(e.path() / ".lock"))
                    stale.push_back(e.path());
            } else if (fs::last_write_time(e.path(), ec) < fs::file_time_type::clock::now() - std::chrono::hours(1)) {
                stale.push_back(e.path());  // never got its lock: a build killed right at the start
            }
        }
        for (const auto& p : stale)
            fs::remove_all(p, ec);
    }

private:
    kernel::ScratchDir dir_;  // removed after the lock is let go (members go in reverse)
    kernel::FileLock lock_;
};

struct Fragments {
    std::vector<ConfigFragment> parsed;  // ours, then the user's
    std::vector<std::string> texts;      // each in .config syntax
};

Fragments read_fragments(const std::vector<fs::path>& user) {
    Fragments f;
    for (const auto& b : builtin_fragments())
        f.parsed.push_back(parse_fragment(b.text, std::string(b.name)));
    for (const auto& path : user)
        f.parsed.push_back(read_fragment(path));
    for (const auto& p : f.parsed)
        f.texts.push_back(normalised(p));
    return f;
}

bool complete(const fs::path& release_dir) {
    std::error_code ec;
    const auto k = kernel::kernel_in(release_dir);
    if (!k || !k->schedulers_dir || !fs::is_regular_file(release_dir / build_record_path, ec))
        return false;
    return std::all_of(std::begin(scheduler_names), std::end(scheduler_names),
                       [&](const char* s) { return fs::is_regular_file(*k->schedulers_dir / s, ec); });
}

// A built kernel made from the same recipe, if the cache has one.
std::optional<std::string> release_for_recipe(const fs::path& root, const std::string& recipe) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root, ec)) {
        const auto name = e.path().filename().string();
        if (name.starts_with(".") || e.is_symlink(ec) || !e.is_directory(ec))
            continue;
        const auto record = read_build_record(e.path());
        if (record && record->recipe == recipe && record->release == name && complete(e.path()))
            return name;
    }
    return std::nullopt;
}

// Points sched-ext, and the build's name, at `release`.
void set_links(const fs::path& root, const std::string& release, const std::string& name) {
    kernel::FileLock lock(root / ".lock");
    kernel::set_cache_link(root, kernel::sched_ext_link, release);
    if (!name.empty())
        kernel::set_cache_link(root, name, release);
}

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Runs the makes of one build: every line goes to the log and through the
// progress counter; a failure keeps the log and says where.
class Builder {
public:
    Builder(const fs::path& root, ProgressLine& progress) : root_(root), progress_(progress) {}

    void open_log(const fs::path& path) {
        log_path_ = path;
        log_.open(path, std::ios::trunc);
        if (!log_)
            throw std::runtime_error(fmt::format("{}: cannot write", path.string()));
    }
    void close_log() { log_.close(); }
    // What the kept log of a failure is named after: the recipe until the
    // key is known.
    void set_failure_name(const std::string& name) { failure_name_ = name; }

    // Runs make in `phase` (which may move on to link); throws BuildFailed.
    std::uint64_t make(Phase phase, const std::string& what, std::vector<std::string> argv) {
        log_ << "\n== " << phase_name(phase) << ": ";
        for (const auto& a : argv)
            log_ << a << ' ';
        log_ << "\n";
        MakeProgress counter(phase);
        // Configuring compiles a few host tools: the step says more than their count.
        auto detail = [&] {
            return phase == Phase::config || !counter.objects() ? what : fmt::format("{} objects", counter.objects());
        };
        progress_.update(phase, detail());
        LineSplitter lines([&](std::string_view line) {
            log_ << line << '\n';
            const auto before = counter.phase();
            if (counter.feed(line)) {
                if (counter.phase() != before)
                    phase_moved_(counter.phase());
                progress_.update(counter.phase(), detail());
            }
        });
        StreamedCommand c;
        c.argv = std::move(argv);
        c.environment = make_environment();
        c.on_output = [&](std::string_view chunk) { lines.feed(chunk); };
        c.on_tick = [&] { progress_.tick(); };
        const int status = run_streamed(c);
        lines.flush();
        log_.flush();
        if (status != 0)
            fail(fmt::format("{} failed in {} (make exited {})", what, phase_name(counter.phase()), status));
        return counter.objects();
    }

    // Called when make moves from compile to link.
    void on_phase_moved(std::function<void(Phase)> f) { phase_moved_ = std::move(f); }

    [[noreturn]] void fail(const std::string& summary) {
        log_.close();
        auto lines = excerpt(log_path_);  // before keep_log() moves the log away
        auto kept = keep_log();
        throw BuildFailed(summary, std::move(lines), std::move(kept));
    }

private:
    static std::vector<std::string> excerpt(const fs::path& log) {
        std::ifstream in(log);
        std::string line;
        std::vector<std::string> errors;
        std::deque<std::string> tail;
        while (std::getline(in, line)) {
            if (line.find("error:") != std::string::npos && errors.size() < 20)
                errors.push_back(line);
            tail.push_back(line);
            if (tail.size() > 20)
                tail.pop_front();
        }
        return errors.empty() ? std::vector<std::string>(tail.begin(), tail.end()) : errors;
    }

    // kernels/.failed/<name>.log, the oldest beyond failed_logs_kept removed.
    fs::path keep_log() {
        std::error_code ec;
        const auto dir = root_ / ".failed";
        fs::create_directories(dir, ec);
        const auto kept = dir / (failure_name_ + ".log");
        fs::rename(log_path_, kept, ec);
        if (ec)
            return log_path_;  // removed with the build folder, but say where it was
        std::vector<std::pair<fs::file_time_type, fs::path>> logs;
        for (const auto& e : fs::directory_iterator(dir, ec))
            logs.emplace_back(fs::last_write_time(e.path(), ec), e.path());
        std::sort(logs.begin(), logs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        for (std::size_t i = failed_logs_kept; i < logs.size(); ++i)
            fs::remove(logs[i].second, ec);
        return kept;
    }

    fs::path root_;
    ProgressLine& progress_;
    std::ofstream log_;
    fs::path log_path_;
    std::string failure_name_ = "build";
    std::function<void(Phase)> phase_moved_ = [](Phase) {};
};

void copy_file_to(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec)
        throw std::runtime_error(fmt::format("copy {} to {}: {}", from.string(), to.string(), ec.message()));
}

}  // namespace

BuildResult build_kernel(const BuildOptions& options) {
    const auto start = Clock::now();
    // Everything the user can get wrong, before anything is fetched or built.
    if (options.jobs > max_jobs)
        throw BadBuildInput(fmt::format("--jobs {}: at most {}", options.jobs, max_jobs));
    if (!options.name.empty())
        if (auto problem = name_problem(options.name))
            throw BadBuildInput(*problem);
    const auto fragments = read_fragments(options.kconfig);
    std::optional<KernelSource> user_tree;
    if (options.source)
        user_tree = user_source(*options.source);
    utsname host{};
    if (::uname(&host) != 0 || std::string_view(host.machine) != "x86_64")
        throw std::runtime_error("kernel build makes x86_64 kernels, on an x86_64 host");
    check_tools(!options.source);
    const unsigned jobs = options.jobs ? options.jobs : default_jobs();

    const auto root = kernel::cache_root();
    std::error_code ec;
    fs::create_directories(root / ".locks", ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", root.string(), ec.message()));
    if (!options.name.empty() && fs::exists(root / options.name, ec) && !fs::is_symlink(root / options.name, ec))
        throw BadBuildInput(fmt::format("kernel name '{}': {} exists and is not a link", options.name,
                                        (root / options.name).string()));

    InterruptionGuard interruptible;  // Ctrl-C unwinds: the build folder goes at once
    ProgressLine progress(options.progress, start);
    std::array<double, phase_count> seconds{};
    std::array<bool, phase_count> ran{};
    auto phase_start = Clock::now();
    auto end_phase = [&](Phase p) {
        const auto now = Clock::now();
        seconds[static_cast<std::size_t>(p)] += std::chrono::duration<double>(now - phase_start).count();
        ran[static_cast<std::size_t>(p)] = true;
        phase_start = now;
    };
    auto phase_seconds = [&] {
        std::vector<std::pair<std::string, double>> out;
        for (int i = 0; i < phase_count; ++i)
            if (ran[static_cast<std::size_t>(i)])
                out.emplace_back(std::string(phase_name(static_cast<Phase>(i))), seconds[static_cast<std::size_t>(i)]);
        return out;
    };
    auto found = [&](const std::string& release, const std::string& key) {
        set_links(root, release, options.name);
        progress.finish();
        auto image = kernel::kernel_in(root / release);
        if (!image)
            throw std::runtime_error(fmt::format("{}: no kernel in it", (root / release).string()));
        return BuildResult{*image, key, true, phase_seconds()};
    };

    // source: its identity first; the tree only when there is something to build.
    progress.update(Phase::source, options.source ? options.source->string() : debian_source_package);
    std::optional<DebianSource> debian;
    if (!user_tree)
        debian = debian_source_version();
    const auto identity = user_tree ? user_tree->identity : debian->identity();
    const auto recipe = recipe_key(identity, fragments.texts, toolchain_versions());
    if (auto release = release_for_recipe(root, recipe)) {
        end_phase(Phase::source);
        const auto record = read_build_record(root / *release);
        return found(*release, record ? record->key : "");
    }
    KernelSource source = user_tree ? std::move(*user_tree) : debian_source(*debian, [&](const std::string& what) {
        progress.update(Phase::source, what);
    });
    end_phase(Phase::source);

    WorkDir::remove_stale(root);
    WorkDir work(root);
    Builder builder(root, progress);
    builder.open_log(work.path() / "build.log");
    builder.set_failure_name("recipe-" + recipe.substr(0, 12));
    const auto obj = work.path() / "obj";
    const auto src = source.dir.string();
    fs::create_directories(obj);
    auto kbuild = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {"make", "-C", src, "O=" + obj.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    };

    // config
    builder.make(Phase::config, "make tinyconfig", kbuild({"tinyconfig"}));
    {
        std::ofstream config(obj / ".config", std::ios::app);
        for (std::size_t i = 0; i < fragments.parsed.size(); ++i)
            config << "# " << fragments.parsed[i].source << " (ktstr-vmm kernel build)\n" << fragments.texts[i];
        if (!config.flush())
            throw std::runtime_error(fmt::format("{}: cannot write", (obj / ".config").string()));
    }
    builder.make(Phase::config, "make olddefconfig", kbuild({"olddefconfig"}));
    const auto config_text = text_of(obj / ".config");
    if (auto lost = lost_options(fragments.parsed, config_text); !lost.empty()) {
        std::vector<std::string> lines;
        for (const auto& l : lost)
            lines.push_back(describe(l));
        progress.finish();
        throw ConfigRejected(std::move(lines));
    }
    const auto key = build_key(source.identity, config_text);
    builder.set_failure_name(key);
    std::string release_output;
    {
        StreamedCommand r;
        r.argv = kbuild({"-s", "LOCALVERSION=" + local_version(key), "kernelrelease"});
        r.environment = make_environment();
        r.on_output = [&](std::string_view chunk) { release_output.append(chunk); };
        if (run_streamed(r) != 0)
            builder.fail("make kernelrelease failed: " + release_output);
    }
    std::string release;
    {
        std::istringstream lines(release_output);
        std::string line;
        while (std::getline(lines, line))
            if (!line.empty())
                release = line;
    }
    if (release.empty() || !(release[0] >= '0' && release[0] <= '9') || release.find('/') != std::string::npos)
        builder.fail(fmt::format("make kernelrelease printed no release ({})", release_output));
    end_phase(Phase::config);

    // Two builds of one key: the second waits here, then finds the first's.
    const auto key_lock_path = root / ".locks" / (key + ".lock");
    std::ofstream(key_lock_path, std::ios::app).close();
    auto key_lock = kernel::FileLock::try_exclusive(key_lock_path);
    if (!key_lock) {
        progress.update(Phase::config, "waiting for another build of this kernel");
        key_lock.emplace(key_lock_path, kernel::FileLock::Mode::exclusive, throw_if_interrupted);
    }
    if (complete(root / release))
        return found(release, key);

    // compile, link
    builder.on_phase_moved([&](Phase p) {
        if (p == Phase::link)
            end_phase(Phase::compile);
    });
    const auto objects =
        builder.make(Phase::compile, "make bzImage",
                     kbuild({fmt::format("-j{}", jobs), "LOCALVERSION=" + local_version(key), "bzImage"}));
    end_phase(ran[static_cast<std::size_t>(Phase::compile)] ? Phase::link : Phase::compile);

    // schedulers: tools/sched_ext's Makefile looks for vmlinux under its own
    // O= and then falls back to the host's /sys/kernel/btf/vmlinux, which
    // would build them against the wrong kernel; VMLINUX_BTF names ours.
    // User space stays gcc's (CC unset): with clang, -rdynamic under -Werror fails.
    const auto scx = work.path() / "scx";
    fs::create_directories(scx);
    builder.make(Phase::schedulers, "make -C tools/sched_ext",
                 {"make", "-C", (source.dir / "tools/sched_ext").string(), "O=" + scx.string(),
                  "VMLINUX_BTF=" + (obj / "vmlinux").string(), std::string("CLANG=") + bpf_clang,
                  std::string("LLVM_STRIP=") + bpf_strip, fmt::format("-j{}", jobs)});
    for (const char* s : scheduler_names)
        if (!fs::is_regular_file(scx / "build/bin" / s, ec))
            builder.fail(fmt::format("schedulers: make succeeded but built no {}", s));
    end_phase(Phase::schedulers);

    throw_if_interrupted();
    // install: staged beside the cache, renamed into it whole.
    progress.update(Phase::install, release);
    const auto stage = work.path() / "stage" / release;
    copy_file_to(obj / "arch/x86/boot/bzImage", stage / "boot" / ("vmlinuz-" + release));
    copy_file_to(obj / ".config", stage / "boot" / ("config-" + release));
    copy_file_to(obj / "System.map", stage / "boot" / ("System.map-" + release));
    for (const char* s : scheduler_names)
        copy_file_to(scx / "build/bin" / s, stage / "ktstr/schedulers" / s);
    end_phase(Phase::install);

    BuildRecord record;
    record.name = options.name;
    record.key = key;
    record.recipe = recipe;
    record.source = source.description;
    record.source_identity = source.identity;
    for (std::size_t i = 0; i < fragments.parsed.size(); ++i)
        record.fragments.push_back({fragments.parsed[i].source, sha256_hex(fragments.texts[i])});
    record.release = release;
    record.jobs = static_cast<int>(jobs);
    record.objects = objects;
    record.seconds = phase_seconds();
    record.built_at = utc_now();
    write_text(stage / build_record_path, to_json(record));
    builder.close_log();
    fs::rename(work.path() / "build.log", stage / "ktstr/build.log", ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", (stage / "ktstr/build.log").string(), ec.message()));

    fs::remove_all(root / release, ec);  // an incomplete tree (damaged by hand): replaced
    fs::rename(stage, root / release, ec);
    if (ec)
        throw std::runtime_error(fmt::format("rename into {}: {}", (root / release).string(), ec.message()));
    set_links(root, release, options.name);
    end_phase(Phase::install);
    progress.finish();
    auto image = kernel::kernel_in(root / release);
    return BuildResult{*image, key, false, phase_seconds()};
}

}  // namespace ktstr::vmm::kernel_build
