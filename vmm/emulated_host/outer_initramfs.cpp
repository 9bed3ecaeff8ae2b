// Interim image writer: the project's initramfs builder (issue 5, item 2)
// is to take this over; until it lands this file writes the outer image
// itself, a plain cpio "newc" archive, left uncompressed because the outer
// kernel would decompress it with TCG-emulated instructions, which costs
// more than reading a larger file.
#include "emulated_host/outer_initramfs.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>

#include <elf.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "emulated_host/image_cache.hpp"
#include "kvm/unique_fd.hpp"

extern char** environ;

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;
namespace {

// cpio newc: "070701", 13 eight-digit hex fields, the NUL-terminated name
// padded to 4 bytes, then the data padded to 4 bytes.
class NewcWriter {
public:
    explicit NewcWriter(const fs::path& path)
        : path_(path), fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) {
        if (!fd_)
            throw std::runtime_error(fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
    }

    // Every parent of `guest` first, once.
    void directories_for(const fs::path& guest) {
        fs::path p;
        for (const auto& part : guest.parent_path().relative_path()) {
            p /= part;
            if (dirs_.insert(p.string()).second)
                header(p.string(), 040755, 0);
        }
    }

    void directory(const fs::path& guest, unsigned mode = 0755) {
        directories_for(guest);
        if (dirs_.insert(guest.relative_path().string()).second)
            header(guest.relative_path().string(), 040000 | mode, 0);
    }

    void data(const fs::path& guest, std::string_view bytes, unsigned mode) {
        directories_for(guest);
        header(guest.relative_path().string(), 0100000 | mode, bytes.size());
        write(bytes.data(), bytes.size());
        pad(bytes.size());
        payload_ += bytes.size();
    }

    void file(const fs::path& host, const fs::path& guest) {
        UniqueFd in(::open(host.c_str(), O_RDONLY | O_CLOEXEC));
        struct stat st {};
        if (!in || ::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode))
            throw std::runtime_error(fmt::format("{}: cannot read as a regular file: {}", host.string(), std::strerror(errno)));
        const auto size = static_cast<std::uint64_t>(st.st_size);
        if (size > 0xffffffffu)
            throw std::runtime_error(fmt::format("{}: larger than cpio's 4 GiB limit", host.string()));
        directories_for(guest);
        header(guest.relative_path().string(), 0100000 | (st.st_mode & 07777), size);
        std::array<char, 1 << 16> buf;
        std::uint64_t left = size;
        while (left > 0) {
            ssize_t n = ::read(in.get(), buf.data(), std::min<std::uint64_t>(left, buf.size()));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                throw std::runtime_error(fmt::format("{}: changed while being read", host.string()));
            write(buf.data(), static_cast<std::size_t>(n));
            left -= static_cast<std::uint64_t>(n);
        }
        pad(size);
        payload_ += size;
    }

    // A host file or a whole directory tree (regular files and directories;
    // symbolic links inside are followed as files).
    void tree(const fs::path& host, const fs::path& guest) {
        if (!fs::is_directory(host)) {
            file(host, guest);
            return;
        }
        directory(guest);
        for (const auto& e : fs::recursive_directory_iterator(host)) {
            const fs::path g = guest / fs::relative(e.path(), host);
            if (e.is_directory())
                directory(g);
            else if (e.is_regular_file())
                file(e.path(), g);
        }
    }

    std::uint64_t finish() {
        header("TRAILER!!!", 0, 0);
        if (::fsync(fd_.get()) != 0 && errno != EINVAL)
            throw std::runtime_error(fmt::format("{}: fsync: {}", path_.string(), std::strerror(errno)));
        fd_.reset();
        return payload_;
    }

private:
    void header(const std::string& name, unsigned mode, std::uint64_t size) {
        const auto h = fmt::format("070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                                   ++ino_, mode, 0, 0, (mode & 040000) ? 2 : 1, 0, size, 0, 0, 0, 0, name.size() + 1, 0);
        write(h.data(), h.size());
        write(name.c_str(), name.size() + 1);
        pad(h.size() + name.size() + 1);
    }
    void pad(std::uint64_t n) {
        static const char zeros[4] = {};
        write(zeros, (4 - n % 4) % 4);
    }
    void write(const char* p, std::size_t n) {
        while (n > 0) {
            ssize_t w = ::write(fd_.get(), p, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                throw std::runtime_error(fmt::format("{}: write failed: {}", path_.string(), std::strerror(errno)));
            p += w;
            n -= static_cast<std::size_t>(w);
        }
    }

    fs::path path_;
    UniqueFd fd_;
    std::set<std::string> dirs_;
    unsigned ino_ = 0;
    std::uint64_t payload_ = 0;
};

// The ELF interpreter (PT_INTERP) of a 64-bit program, or empty for a
// static one.
fs::path interpreter_of(const fs::path& program) {
    UniqueFd fd(::open(program.c_str(), O_RDONLY | O_CLOEXEC));
    Elf64_Ehdr eh{};
    if (!fd || ::pread(fd.get(), &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh) ||
        std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
        throw std::runtime_error(fmt::format("{}: not a 64-bit ELF program", program.string()));
    for (unsigned i = 0; i < eh.e_phnum && i < 256; ++i) {
        Elf64_Phdr ph{};
        const auto off = static_cast<off_t>(eh.e_phoff + std::uint64_t{i} * sizeof ph);
        if (::pread(fd.get(), &ph, sizeof ph, off) != static_cast<ssize_t>(sizeof ph))
            break;
        if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz > 4096)
            continue;
        std::string s(ph.p_filesz, '\0');
        if (::pread(fd.get(), s.data(), s.size(), static_cast<off_t>(ph.p_offset)) != static_cast<ssize_t>(s.size()))
            break;
        s.resize(std::strlen(s.c_str()));
        return s;
    }
    return {};
}

// The loader and every shared library the loader would map for `program`,
// as "<interp> --list" (what ldd runs) resolves them on this host.
std::vector<fs::path> runtime_files_of(const fs::path& program) {
    const fs::path interp = interpreter_of(program);
    if (interp.empty())
        return {};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    UniqueFd rd(fds[0]), wr(fds[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), STDOUT_FILENO);
    const std::string i_s = interp.string(), p_s = program.string();
    const char* argv[] = {i_s.c_str(), "--list", p_s.c_str(), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, i_s.c_str(), &fa, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        throw std::runtime_error(fmt::format("{} --list: {}", i_s, std::strerror(rc)));
    wr.reset();
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || out.size() > (1 << 20))
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        throw std::runtime_error(fmt::format("{}: the loader cannot resolve its libraries", program.string()));
    // Lines: "\tlibfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)"
    // and "\t/lib64/ld-linux-x86-64.so.2 (0x...)".
    std::vector<fs::path> files{interp};
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto end = out.find('\n', pos);
        std::string_view line(out.data() + pos, (end == std::string::npos ? out.size() : end) - pos);
        pos = end == std::string::npos ? out.size() : end + 1;
        if (auto arrow = line.find("=> "); arrow != std::string_view::npos)
            line.remove_prefix(arrow + 3);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        line = line.substr(0, line.find(' '));
        if (line.starts_with('/') && std::find(files.begin(), files.end(), fs::path(line)) == files.end())
            files.emplace_back(line);
    }
    return files;
}

std::string nul_list(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        s += x;
        s.push_back('\0');
    }
    return s;
}

}  // namespace

OuterInitramfs build_outer_initramfs(const OuterInitramfsSpec& spec) {
    // The key covers every input file's identity and every recorded byte.
    ContentKey key;
    key.add("outer-initramfs-v1").add_file(spec.init);
    std::vector<std::pair<fs::path, fs::path>> programs;  // (what to copy, where)
    std::vector<fs::path> runtime;
    for (const auto& p : spec.programs) {
        programs.emplace_back(stripped_binary(p.host), p.guest);
        for (auto& f : runtime_files_of(p.host))
            if (std::find(runtime.begin(), runtime.end(), f) == runtime.end())
                runtime.push_back(f);
    }
    for (const auto& [h, g] : programs)
        key.add_file(h).add(g.string());
    for (const auto& f : runtime)
        key.add_file(f);
    for (const auto& f : spec.files) {
        key.add(f.guest.string());
        if (fs::is_directory(f.host))
            for (const auto& e : fs::recursive_directory_iterator(f.host))
                key.add_file(e.path());
        else
            key.add_file(f.host);
    }
    for (const auto& m : spec.modules)
        key.add_file(m);
    key.add(nul_list(spec.command)).add(nul_list(spec.environment));

    const auto init = stripped_binary(spec.init);
    OuterInitramfs out;
    const auto name = "outer-" + key.hex() + ".cpio";
    out.path = cached_file(name, [&](const fs::path& temp) {
        NewcWriter w(temp);
        for (const char* d : {"/dev", "/proc", "/sys", "/tmp", "/etc/ktstr", "/lib/modules"})
            w.directory(d);
        w.file(init, "/init");
        for (const auto& [h, g] : programs)
            w.file(h, g);
        for (const auto& f : runtime)
            w.file(f, f);
        for (const auto& f : spec.files)
            w.tree(f.host, f.guest);
        std::string list;
        for (const auto& m : spec.modules) {
            const auto g = fs::path("/lib/modules") / m.filename();
            w.file(m, g);
            list += g.string() + "\n";
        }
        w.data("/etc/ktstr/modules", list, 0644);
        w.data("/etc/ktstr/command", nul_list(spec.command), 0644);
        w.data("/etc/ktstr/environment", nul_list(spec.environment), 0644);
        w.finish();
    });
    prune_cache("outer-", 4);
    std::error_code ec;
    out.payload_bytes = fs::file_size(out.path, ec);
    return out;
}

}  // namespace ktstr::vmm::emulated_host
