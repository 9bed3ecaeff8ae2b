#include "cli/process_memory.hpp"

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace ktstr::cli {
namespace {

// "Name:   123 kB" -> 123 when the line starts with `name` and a colon.
std::optional<std::uint64_t> field_kib(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ':')
        return std::nullopt;
    auto rest = line.substr(name.size() + 1);
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front())))
        rest.remove_prefix(1);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (ec != std::errc{})
        return std::nullopt;
    return v;
}

}  // namespace

ResidentSplit split_resident(std::string_view smaps, std::uint64_t guest_ram_kib) {
    ResidentSplit r;
    std::uint64_t size_kib = 0;  // of the mapping whose fields are being read
    while (!smaps.empty()) {
        const auto eol = smaps.find('\n');
        const auto line = smaps.substr(0, eol);
        smaps.remove_prefix(eol == std::string_view::npos ? smaps.size() : eol + 1);
        // A mapping's header starts with its hex address range; its field
        // lines start with a capitalised name.
        if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line.front())) &&
            line.find('-') < line.find(' ') && line.find(':') > line.find(' ')) {
            size_kib = 0;
        } else if (auto size = field_kib(line, "Size")) {
            size_kib = *size;
        } else if (auto rss = field_kib(line, "Rss")) {
            (size_kib >= guest_ram_kib ? r.guest_ram_kib : r.other_kib) += *rss;
        }
    }
    return r;
}

std::optional<std::string> read_smaps(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof())
        return std::nullopt;
    return std::move(text).str();
}

std::optional<ResidentSplit> read_resident_split(pid_t pid, std::uint64_t guest_ram_kib) {
    const auto text = read_smaps(pid);
    if (!text)
        return std::nullopt;
    return split_resident(*text, guest_ram_kib);
}

}  // namespace ktstr::cli
