#include "emulated_host/image_cache.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

extern char** environ;

namespace ktstr::vmm::emulated_host {
namespace fs = std::filesystem;

ContentKey& ContentKey::add(std::string_view bytes) noexcept {
    for (unsigned char c : bytes) {
        h_ ^= c;
        h_ *= 0x100000001b3ull;
    }
    // A separator, so that ("ab","c") and ("a","bc") differ.
    h_ ^= 0xff;
    h_ *= 0x100000001b3ull;
    return *this;
}

ContentKey& ContentKey::add(std::uint64_t v) noexcept {
    return add(std::string_view(reinterpret_cast<const char*>(&v), sizeof v));
}

ContentKey& ContentKey::add_file(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw std::runtime_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
    add(path.string());
    add(static_cast<std::uint64_t>(st.st_size));
    add(static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
    add(static_cast<std::uint64_t>(st.st_ino));
    add(static_cast<std::uint64_t>(st.st_mode));
    return *this;
}

std::string ContentKey::hex() const {
    return fmt::format("{:016x}", h_);
}

fs::path emulated_host_cache_dir() {
    fs::path base;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/')
        base = x;
    else if (const char* h = std::getenv("HOME"); h && *h == '/')
        base = fs::path(h) / ".cache";
    else
        base = fs::temp_directory_path();
    return base / "ktstr" / "emulated-host";
}

fs::path cached_file(const std::string& name, const std::function<void(const fs::path&)>& make) {
    const fs::path dir = emulated_host_cache_dir();
    const fs::path target = dir / name;
    std::error_code ec;
    if (fs::exists(target, ec))
        return target;
    fs::create_directories(dir, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: cannot create: {}", dir.string(), ec.message()));
    const fs::path temp = dir / fmt::format(".{}.{}.tmp", name, ::getpid());
    try {
        make(temp);
    } catch (...) {
        fs::remove(temp, ec);
        throw;
    }
    fs::rename(temp, target, ec);
    if (ec) {
        fs::remove(temp, ec);
        throw std::runtime_error(fmt::format("{}: cannot rename into place: {}", target.string(), ec.message()));
    }
    return target;
}

void prune_cache(std::string_view prefix, std::size_t keep) {
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(emulated_host_cache_dir(), ec))
        if (e.path().filename().string().starts_with(prefix))
            files.emplace_back(e.last_write_time(ec), e.path());
    if (files.size() <= keep)
        return;
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = keep; i < files.size(); ++i)
        fs::remove(files[i].second, ec);
}

fs::path stripped_binary(const fs::path& binary) {
    const auto name = "stripped-" + binary.filename().string() + "-" + ContentKey().add_file(binary).hex();
    try {
        auto out = cached_file(name, [&](const fs::path& temp) {
            const std::string in_s = binary.string(), out_s = temp.string();
            const char* argv[] = {"objcopy", "--strip-debug", in_s.c_str(), out_s.c_str(), nullptr};
            pid_t pid = 0;
            if (::posix_spawnp(&pid, "objcopy", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
                throw std::runtime_error("objcopy not available");
            int st = 0;
            while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                throw std::runtime_error("objcopy failed");
        });
        prune_cache("stripped-" + binary.filename().string() + "-", 2);
        return out;
    } catch (const std::exception&) {
        return binary;  // unstripped works too, only slower
    }
}

}  // namespace ktstr::vmm::emulated_host
