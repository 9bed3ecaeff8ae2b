#include "module_list.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ktstr/common/unique_fd.hpp"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4  // linux/module.h, Linux 5.17+
#endif

namespace ktstr::init {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

std::string reason_for(int err) {
    switch (err) {
    case ENOEXEC: return "not a valid module for this kernel (ENOEXEC)";
    case ENOENT: return "unknown symbol or missing dependency, or the file does not exist (ENOENT)";
    case EKEYREJECTED: return "signature rejected (EKEYREJECTED)";
    case EINVAL: return "invalid module or parameters (EINVAL; see the kernel log)";
    case EOPNOTSUPP: return "compressed modules not supported by this kernel (EOPNOTSUPP)";
    default: return std::strerror(err);
    }
}

}  // namespace

std::vector<ModuleEntry> parse_module_list(std::string_view text) {
    std::vector<ModuleEntry> out;
    int line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        while (!line.empty() && is_space(line.front()))
            line.remove_prefix(1);
        while (!line.empty() && is_space(line.back()))
            line.remove_suffix(1);
        if (line.empty() || line.front() == '#')
            continue;
        std::size_t end = 0;
        while (end < line.size() && !is_space(line[end]))
            ++end;
        ModuleEntry m;
        m.line = line_no;
        m.path = std::string(line.substr(0, end));
        auto params = line.substr(end);
        while (!params.empty() && is_space(params.front()))
            params.remove_prefix(1);
        m.params = std::string(params);
        const auto where = "line " + std::to_string(line_no) + ": ";
        if (m.path.front() != '/')
            throw std::runtime_error(where + "module path '" + m.path + "' is not absolute");
        if (m.path.find('\0') != std::string::npos || m.params.find('\0') != std::string::npos)
            throw std::runtime_error(where + "NUL byte in the line");
        if (ends_with(m.path, ".ko.gz") || ends_with(m.path, ".ko.xz") || ends_with(m.path, ".ko.zst"))
            m.compressed = true;
        else if (!ends_with(m.path, ".ko"))
            throw std::runtime_error(where + "'" + m.path + "' does not end in .ko, .ko.gz, .ko.xz or .ko.zst");
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<ModuleFailure> load_modules(const std::vector<ModuleEntry>& modules) {
    std::vector<ModuleFailure> failures;
    for (const auto& m : modules) {
        UniqueFd fd(::open(m.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            failures.push_back({m.path, std::string("cannot open: ") + std::strerror(errno)});
            continue;
        }
        const unsigned flags = m.compressed ? MODULE_INIT_COMPRESSED_FILE : 0;
        if (::syscall(SYS_finit_module, fd.get(), m.params.c_str(), flags) != 0 && errno != EEXIST)
            failures.push_back({m.path, "finit_module: " + reason_for(errno)});
    }
    return failures;
}

}  // namespace ktstr::init
