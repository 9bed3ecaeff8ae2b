#include "recorded_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ktstr/guest/bounded_file.hpp"

namespace ktstr::init {
namespace {

[[noreturn]] void fail(std::string_view what, const std::string& why) {
    throw std::runtime_error(std::string(what) + ": " + why);
}

}  // namespace

std::vector<std::string> parse_nul_list(std::string_view bytes, std::string_view what) {
    std::vector<std::string> out;
    if (bytes.empty())
        return out;
    if (bytes.size() > max_recorded_file)
        fail(what, "larger than " + std::to_string(max_recorded_file) + " bytes");
    if (bytes.back() != '\0')
        fail(what, "does not end with a NUL byte (truncated?)");
    std::size_t start = 0;
    while (start < bytes.size()) {
        const auto nul = bytes.find('\0', start);  // found: the data ends with one
        if (out.size() == max_recorded_entries)
            fail(what, "more than " + std::to_string(max_recorded_entries) + " entries");
        if (nul - start > max_recorded_entry)
            fail(what, "entry " + std::to_string(out.size()) + " longer than " +
                           std::to_string(max_recorded_entry) + " bytes");
        out.emplace_back(bytes.substr(start, nul - start));
        start = nul + 1;
    }
    return out;
}

RecordedCommand parse_recorded_command(std::string_view argv_bytes, std::string_view env_bytes) {
    RecordedCommand c;
    c.argv = parse_nul_list(argv_bytes, "command");
    if (c.argv.empty())
        fail("command", "empty (no argv[0])");
    if (c.argv[0].empty())
        fail("command", "argv[0] is empty");
    c.env = parse_nul_list(env_bytes, "environment");
    for (std::size_t i = 0; i < c.env.size(); ++i) {
        const auto eq = c.env[i].find('=');
        if (eq == std::string::npos || eq == 0)
            fail("environment", "entry " + std::to_string(i) + " is not NAME=value");
    }
    return c;
}

std::optional<RecordedCommand> read_recorded_command_if_present(const std::string& argv_path,
                                                               const std::vector<std::string>& env) {
    auto argv = guest::read_bounded_file(argv_path, max_recorded_file);
    if (!argv) {
        if (errno == ENOENT)
            return std::nullopt;
        fail(argv_path, std::strerror(errno));
    }
    if (argv->truncated)
        fail(argv_path, "larger than " + std::to_string(max_recorded_file) + " bytes");
    RecordedCommand c;
    try {
        c = parse_recorded_command(argv->bytes, {});
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(argv_path + ": " + e.what());
    }
    c.env = env;
    return c;
}

RecordedCommand read_recorded_command(const std::string& argv_path, const std::string& env_path) {
    auto argv = guest::read_bounded_file(argv_path, max_recorded_file);
    if (!argv)
        fail(argv_path, std::strerror(errno));
    if (argv->truncated)
        fail(argv_path, "larger than " + std::to_string(max_recorded_file) + " bytes");
    std::string env_bytes;
    if (auto env = guest::read_bounded_file(env_path, max_recorded_file)) {
        if (env->truncated)
            fail(env_path, "larger than " + std::to_string(max_recorded_file) + " bytes");
        env_bytes = std::move(env->bytes);
    } else if (errno != ENOENT) {
        fail(env_path, std::strerror(errno));
    }
    try {
        return parse_recorded_command(argv->bytes, env_bytes);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(argv_path + " / " + env_path + ": " + e.what());
    }
}

std::optional<std::string_view> env_value(const std::vector<std::string>& env, std::string_view name) {
    for (const auto& e : env)
        if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
            return std::string_view(e).substr(name.size() + 1);
    return std::nullopt;
}

std::vector<std::string> command_environment(const std::vector<std::string>& recorded, int bulk_fd) {
    std::vector<std::string> env;
    auto is = [](const std::string& e, std::string_view name) {
        return e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=';
    };
    for (const auto& e : recorded)
        if (!is(e, "PATH") && !is(e, "KTSTR_BULK_FD"))
            env.push_back(e);

    std::string path(env_value(recorded, "PATH").value_or(""));
    std::string_view defaults = default_path;
    while (!defaults.empty()) {
        auto colon = defaults.find(':');
        auto dir = defaults.substr(0, colon);
        bool present = false;
        std::string_view p = path;
        while (!present) {
            auto c = p.find(':');
            present = p.substr(0, c) == dir;
            if (c == std::string_view::npos)
                break;
            p.remove_prefix(c + 1);
        }
        if (!present)
            path += (path.empty() ? "" : ":") + std::string(dir);
        defaults.remove_prefix(colon == std::string_view::npos ? defaults.size() : colon + 1);
    }
    env.push_back("PATH=" + path);
    if (bulk_fd >= 0)
        env.push_back("KTSTR_BULK_FD=" + std::to_string(bulk_fd));
    return env;
}

Resolved resolve_executable(std::string_view name, std::string_view path_var) {
    auto check = [](const std::string& candidate) {
        struct stat st {};
        if (::stat(candidate.c_str(), &st) != 0)
            return Resolve::not_found;
        if (!S_ISREG(st.st_mode) || ::access(candidate.c_str(), X_OK) != 0)
            return Resolve::not_executable;
        return Resolve::found;
    };
    if (name.find('/') != std::string_view::npos) {
        std::string p(name);
        return {check(p), p};
    }
    Resolved best{Resolve::not_found, std::string(name)};
    while (!path_var.empty()) {
        auto colon = path_var.find(':');
        auto dir = path_var.substr(0, colon);
        path_var.remove_prefix(colon == std::string_view::npos ? path_var.size() : colon + 1);
        if (dir.empty())
            continue;  // "" would mean the current directory: never searched
        std::string candidate = std::string(dir) + "/" + std::string(name);
        auto s = check(candidate);
        if (s == Resolve::found)
            return {s, candidate};
        if (s == Resolve::not_executable && best.status == Resolve::not_found)
            best = {s, candidate};
    }
    return best;
}

}  // namespace ktstr::init
