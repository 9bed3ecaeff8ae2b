#include "kernel_build/config_fragment.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

namespace ktstr::vmm::kernel_build {
namespace {

bool name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos)
        return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

bool valid_name(std::string_view name) {
    return name.size() > 7 && name.starts_with("CONFIG_") && std::all_of(name.begin(), name.end(), name_char);
}

bool valid_value(std::string_view v) {
    if (v == "y" || v == "m" || v == "n")
        return true;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        return true;
    auto digits = v;
    if (digits.starts_with("-"))
        digits.remove_prefix(1);
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.remove_prefix(2);
        return !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        });
    }
    return !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The value part of "VALUE   # why": up to the first '#' outside quotes.
// nullopt-like empty result with `unterminated` set for an open quote.
std::string_view strip_comment(std::string_view rest, bool& unterminated) {
    bool quoted = false;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const char c = rest[i];
        if (quoted && c == '\\' && i + 1 < rest.size()) {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == '#' && !quoted) {
            return trim(rest.substr(0, i));
        }
    }
    unterminated = quoted;
    return trim(rest);
}

}  // namespace

ConfigFragment parse_fragment(std::string_view text, std::string source) {
    ConfigFragment f;
    f.source = std::move(source);
    int number = 0;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view raw = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        ++number;
        const auto line = trim(raw);
        if (line.empty())
            continue;
        auto fail = [&](const std::string& what) {
            return FragmentError(fmt::format("{}:{}: {}", f.source, number, what));
        };
        if (line.front() == '#') {
            // "# CONFIG_X is not set" means =n; any other comment is a comment.
            constexpr std::string_view not_set = " is not set";
            auto body = trim(line.substr(1));
            if (body.starts_with("CONFIG_") && body.ends_with(not_set)) {
                auto name = trim(body.substr(0, body.size() - not_set.size()));
                if (valid_name(name))
                    f.options.push_back({std::string(name), "n", number});
            }
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            throw fail(fmt::format("expected CONFIG_NAME=VALUE, not '{}'", line));
        const auto name = trim(line.substr(0, eq));
        if (!valid_name(name))
            throw fail(fmt::format("'{}' is not an option name (CONFIG_ and letters, digits, _)", name));
        bool unterminated = false;
        const auto value = strip_comment(line.substr(eq + 1), unterminated);
        if (unterminated)
            throw fail(fmt::format("{}: unterminated string", name));
        if (value.empty())
            throw fail(fmt::format("{} has no value (y, m, n, a number or \"text\")", name));
        if (!valid_value(value))
            throw fail(fmt::format("{}={}: not a value (y, m, n, a number or \"text\")", name, value));
        f.options.push_back({std::string(name), std::string(value), number});
    }
    return f;
}

ConfigFragment read_fragment(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        throw FragmentError(fmt::format("kconfig fragment {}: no such file", file.string()));
    std::ifstream in(file);
    if (!in)
        throw FragmentError(fmt::format("kconfig fragment {}: cannot read", file.string()));
    std::stringstream s;
    s << in.rdbuf();
    return parse_fragment(s.str(), file.string());
}

std::string normalised(const ConfigFragment& fragment) {
    std::string out;
    for (const auto& o : fragment.options)
        out += o.value == "n" ? fmt::format("# {} is not set\n", o.name) : fmt::format("{}={}\n", o.name, o.value);
    return out;
}

}  // namespace ktstr::vmm::kernel_build
