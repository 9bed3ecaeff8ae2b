#include "emulated_host/return_stream.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;
namespace {

constexpr char magic[4] = {'K', 'T', 'O', 'F'};
constexpr std::size_t copy_chunk = 1 << 16;
constexpr const char* partial_suffix = ".ktstr-partial";

void write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw std::runtime_error(std::string("return stream: write failed: ") + std::strerror(errno));
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

void write_header(int fd, std::uint32_t kind, std::uint32_t mode, const std::string& path, std::uint64_t size) {
    std::array<std::uint8_t, sizeof(ReturnRecordHeader)> h{};
    std::memcpy(h.data(), magic, 4);
    store_le<std::uint32_t>(h.data() + offsetof(ReturnRecordHeader, kind), kind);
    store_le<std::uint32_t>(h.data() + offsetof(ReturnRecordHeader, mode), mode & return_mode_mask);
    store_le<std::uint32_t>(h.data() + offsetof(ReturnRecordHeader, path_len), static_cast<std::uint32_t>(path.size()));
    store_le<std::uint64_t>(h.data() + offsetof(ReturnRecordHeader, size), size);
    write_all(fd, h.data(), h.size());
    write_all(fd, path.data(), path.size());
}

void write_file(int out, const fs::path& path) {
    const std::string name = path.string();
    if (name.size() > return_max_path)
        throw std::runtime_error(fmt::format("{}: path longer than {} bytes", name, return_max_path));
    UniqueFd in(::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in)
        throw std::runtime_error(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
    struct stat st {};
    if (::fstat(in.get(), &st) < 0 || !S_ISREG(st.st_mode))
        throw std::runtime_error(fmt::format("{}: not a regular file any more", name));
    // The size in the header is the size now; the content sent is exactly
    // that many bytes (zero-padded if the file shrank meanwhile), so the
    // stream stays well-formed even if someone writes to the file.
    const auto size = static_cast<std::uint64_t>(st.st_size);
    write_header(out, return_kind_file, static_cast<std::uint32_t>(st.st_mode), name, size);
    std::vector<std::uint8_t> buf(copy_chunk);
    std::uint64_t left = size;
    while (left > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        ssize_t n = ::read(in.get(), buf.data(), want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw std::runtime_error(fmt::format("{}: read failed: {}", name, std::strerror(errno)));
        if (n == 0) {
            std::fill(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(want), std::uint8_t{0});
            n = static_cast<ssize_t>(want);
        }
        write_all(out, buf.data(), static_cast<std::size_t>(n));
        left -= static_cast<std::uint64_t>(n);
    }
}

bool within(const fs::path& path, const fs::path& root) {
    auto [r, p] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
    return r == root.end();
}

// Directory `name` in `dir`, created when missing, never through a
// symbolic link (one planted in an output must not lead outside it).
// Invalid with errno set on failure.
UniqueFd open_or_make_directory(int dir, const char* name) {
    for (int attempt = 0;; ++attempt) {
        UniqueFd fd(::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (fd || errno != ENOENT || attempt == 1)
            return fd;
        if (::mkdirat(dir, name, 0777) < 0 && errno != EEXIST)
            return UniqueFd();
    }
}

// A directory the caller named (a declared output directory, or the parent
// of a declared output file), created with its parents when missing. Its
// own path is the caller's, so symbolic links on it are followed.
UniqueFd open_declared_directory(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

}  // namespace

bool is_plain_absolute(const fs::path& path) {
    if (!path.is_absolute())
        return false;
    bool first = true;
    for (const auto& part : path) {
        if (first) {  // the root directory "/"
            first = false;
            continue;
        }
        if (part.empty() || part == "." || part == "..")
            return false;
    }
    return true;
}

void write_output_chunk(int fd, std::uint32_t kind, byte_view data) {
    while (!data.empty()) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), return_max_chunk));
        write_header(fd, kind, 0, "", n);
        write_all(fd, data.data(), n);
        data = data.subspan(n);
    }
}

void write_end(int fd) {
    write_header(fd, return_kind_end, 0, "", 0);
}

void write_outputs(int fd, const std::vector<fs::path>& outputs) {
    for (const auto& root : outputs) {
        std::error_code ec;
        const auto st = fs::symlink_status(root, ec);
        if (ec || !fs::exists(st))
            continue;
        if (fs::is_regular_file(st)) {
            write_file(fd, root);
        } else if (fs::is_directory(st)) {
            write_header(fd, return_kind_directory, static_cast<std::uint32_t>(st.permissions()), root.string(), 0);
            for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
                 it.increment(ec)) {
                const auto s = it->symlink_status();
                if (fs::is_directory(s))
                    write_header(fd, return_kind_directory, static_cast<std::uint32_t>(s.permissions()),
                                 it->path().string(), 0);
                else if (fs::is_regular_file(s))
                    write_file(fd, it->path());
            }
            if (ec)
                throw std::runtime_error(fmt::format("{}: cannot list: {}", root.string(), ec.message()));
        }
    }
}

ReturnStreamReceiver::ReturnStreamReceiver(ReturnOutputs outputs, std::function<void(std::uint32_t, byte_view)> on_output,
                                           ReturnLimits limits)
    : outputs_(std::move(outputs)), on_output_(std::move(on_output)), limits_(limits) {}

ReturnStreamReceiver::~ReturnStreamReceiver() {
    close_file(false);
}

void ReturnStreamReceiver::fail(std::string why) {
    if (!error_)
        error_ = "return stream: " + std::move(why);
    close_file(false);
}

void ReturnStreamReceiver::close_file(bool keep) {
    content_kind_ = 0;
    if (!file_)
        return;
    file_.reset();
    const UniqueFd dir = std::move(dir_);
    const auto partial = name_ + partial_suffix;
    // Within the same directory fd: rename replaces whatever is at the
    // name, a symbolic link included, and never follows it.
    if (keep && ::renameat(dir.get(), partial.c_str(), dir.get(), name_.c_str()) < 0) {
        const int e = errno;
        ::unlinkat(dir.get(), partial.c_str(), 0);
        fail(fmt::format("{}: cannot rename into place: {}", target_.string(), std::strerror(e)));
        return;
    }
    if (!keep)
        ::unlinkat(dir.get(), partial.c_str(), 0);
}

// The header and path are complete in header_: validate and act.
void ReturnStreamReceiver::start_record() {
    const std::uint8_t* h = header_.data();
    const auto len = current_.path_len;
    const std::string path(reinterpret_cast<const char*>(h) + sizeof(ReturnRecordHeader), len);
    header_.clear();
    have_header_ = false;

    if (current_.kind == return_kind_end) {
        ended_ = true;
        return;
    }
    if (current_.kind == return_kind_stdout || current_.kind == return_kind_stderr) {
        content_kind_ = current_.kind;
        remaining_ = current_.size;
        return;
    }
    const fs::path p(path);
    if (path.find('\0') != std::string::npos || !is_plain_absolute(p))
        return fail(fmt::format("refused path '{}' (not a plain absolute path)", path));
    // A directory record is the declared directory or below it; a file
    // record is strictly below a declared directory, or a declared file.
    const auto& dirs = outputs_.directories;
    const auto& files = outputs_.files;
    const auto root = std::find_if(dirs.begin(), dirs.end(), [&](const fs::path& r) { return within(p, r); });
    const bool declared_file = std::find(files.begin(), files.end(), p) != files.end();
    const bool directory = current_.kind == return_kind_directory;
    const bool below = root != dirs.end() && (directory || p != *root);
    if (!below) {
        if (directory && declared_file)
            return fail(fmt::format("refused path '{}' (a declared file, sent as a directory)", path));
        if (!directory && !declared_file && root != dirs.end())
            return fail(fmt::format("refused path '{}' (a declared directory, sent as a file)", path));
        if (!declared_file)
            return fail(fmt::format("refused path '{}' (not one of the declared outputs)", path));
    }
    // The disk a stream may take, checked before anything is made.
    if (++entries_ > limits_.max_entries)
        return fail(fmt::format("refused path '{}' (more than {} files and directories)", path, limits_.max_entries));
    if (!directory) {
        if (current_.size > limits_.max_file_bytes - file_bytes_)
            return fail(fmt::format("refused path '{}' ({} bytes would take the outputs past {} bytes)", path,
                                    current_.size, limits_.max_file_bytes));
        file_bytes_ += current_.size;
    }

    // Walk from the declared directory one component at a time, creating
    // what is missing and following no symbolic link; a file record stops
    // before its last component.
    UniqueFd dir = open_declared_directory(below ? *root : p.parent_path());
    if (!dir)
        return fail(fmt::format("{}: cannot open directory: {}", below ? root->string() : p.parent_path().string(),
                                std::strerror(errno)));
    if (below) {
        auto it = p.begin();
        std::advance(it, std::distance(root->begin(), root->end()));
        for (fs::path walked = *root; it != p.end() && (directory || std::next(it) != p.end()); ++it) {
            walked /= *it;
            UniqueFd next = open_or_make_directory(dir.get(), it->c_str());
            if (!next && (errno == ELOOP || errno == ENOTDIR))
                return fail(fmt::format("refused path '{}' ('{}' is a symbolic link or not a directory)", path,
                                        walked.string()));
            if (!next)
                return fail(fmt::format("{}: cannot create directory: {}", walked.string(), std::strerror(errno)));
            dir = std::move(next);
        }
    }
    if (directory)
        return;

    target_ = p;
    name_ = p.filename().string();
    const auto partial = name_ + partial_suffix;
    // Permission bits only: a guest must not hand the caller a setuid or
    // setgid file (as root they would survive).
    const auto mode = static_cast<mode_t>(current_.mode & return_mode_mask);
    // O_NOFOLLOW and O_EXCL after removing a leftover: never write through
    // a link someone planted at the partial name.
    ::unlinkat(dir.get(), partial.c_str(), 0);
    file_.reset(::openat(dir.get(), partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                         mode | S_IRUSR | S_IWUSR));
    if (!file_)
        return fail(fmt::format("{}{}: cannot create: {}", target_.string(), partial_suffix, std::strerror(errno)));
    dir_ = std::move(dir);
    content_kind_ = return_kind_file;
    remaining_ = current_.size;
    if (remaining_ == 0)
        close_file(true);
}

void ReturnStreamReceiver::feed(byte_view bytes) {
    if (!bytes.empty())
        any_bytes_ = true;
    while (!bytes.empty() && !error_) {
        if (ended_)
            return fail("bytes after the end record");
        if (content_kind_ != 0) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
            if (content_kind_ == return_kind_file) {
                std::size_t done = 0;
                while (done < n) {
                    ssize_t w = ::write(file_.get(), bytes.data() + done, n - done);
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0)
                        return fail(fmt::format("{}: write failed: {}", target_.string(), std::strerror(errno)));
                    done += static_cast<std::size_t>(w);
                }
            } else if (on_output_) {
                on_output_(content_kind_, bytes.first(n));
            }
            bytes = bytes.subspan(n);
            remaining_ -= n;
            if (remaining_ == 0) {
                if (content_kind_ == return_kind_file)
                    close_file(true);
                content_kind_ = 0;
            }
            continue;
        }
        // Collect the fixed header, then the path it announces.
        const std::size_t want = have_header_ ? sizeof(ReturnRecordHeader) + current_.path_len : sizeof(ReturnRecordHeader);
        const std::size_t take = std::min(want - header_.size(), bytes.size());
        header_.insert(header_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
        bytes = bytes.subspan(take);
        if (header_.size() < want)
            continue;
        if (!have_header_) {
            const std::uint8_t* h = header_.data();
            if (std::memcmp(h, magic, 4) != 0)
                return fail("bad record magic");
            current_.kind = load_le<std::uint32_t>(h + offsetof(ReturnRecordHeader, kind));
            current_.mode = load_le<std::uint32_t>(h + offsetof(ReturnRecordHeader, mode));
            current_.path_len = load_le<std::uint32_t>(h + offsetof(ReturnRecordHeader, path_len));
            current_.size = load_le<std::uint64_t>(h + offsetof(ReturnRecordHeader, size));
            const auto k = current_.kind;
            const bool named = k == return_kind_file || k == return_kind_directory;
            const bool chunk = k == return_kind_stdout || k == return_kind_stderr;
            if (!named && !chunk && k != return_kind_end)
                return fail(fmt::format("unknown record kind {}", k));
            if (named ? current_.path_len == 0 || current_.path_len > return_max_path : current_.path_len != 0)
                return fail(fmt::format("bad record: kind {} with a {}-byte path", k, current_.path_len));
            if (chunk && (current_.size == 0 || current_.size > return_max_chunk))
                return fail(fmt::format("bad record: a {}-byte output chunk", current_.size));
            if ((k == return_kind_directory || k == return_kind_end) && current_.size != 0)
                return fail(fmt::format("bad record: kind {} with content", k));
            have_header_ = true;
            if (current_.path_len != 0)
                continue;
        }
        start_record();
    }
}

std::optional<std::string> ReturnStreamReceiver::finish() {
    if (!error_ && any_bytes_ && !ended_)
        fail(file_ ? fmt::format("{}: stream ended {} bytes short", target_.string(), remaining_)
                   : std::string("stream ended without its end record"));
    content_kind_ = 0;
    close_file(false);
    return error_;
}

}  // namespace ktstr::vmm::emulated_host
