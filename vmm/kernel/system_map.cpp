#include "kernel/system_map.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <fmt/core.h>

namespace ktstr::vmm::kernel {
namespace fs = std::filesystem;

SystemMap SystemMap::read(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}: {}", path.string(), ec.message()));
    if (size > max_bytes)
        throw std::runtime_error(fmt::format("{}: larger than {} bytes", path.string(), max_bytes));
    std::ifstream in(path, std::ios::binary);
    std::string text(static_cast<std::size_t>(size), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(text.size())))
        throw std::runtime_error(fmt::format("{}: cannot read", path.string()));
    return parse(text);
}

std::optional<SystemMap> SystemMap::read_if_useful(const fs::path& path) {
    if (path.empty())
        return std::nullopt;
    try {
        auto map = read(path);
        if (map.size() > 0)
            return map;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

SystemMap SystemMap::parse(std::string_view text) {
    SystemMap m;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        // "ffffffff81000000 T _text"
        const auto sp1 = line.find(' ');
        if (sp1 == std::string_view::npos || line.size() < sp1 + 4 || line[sp1 + 2] != ' ')
            continue;
        std::uint64_t address = 0;
        const auto [end, err] = std::from_chars(line.data(), line.data() + sp1, address, 16);
        if (err != std::errc() || end != line.data() + sp1)
            continue;
        const char type = line[sp1 + 1];
        const std::string_view name = line.substr(sp1 + 3);
        if (name == "_etext")
            m.text_end_ = address;
        if (type == 't' || type == 'T' || type == 'w' || type == 'W')
            m.symbols_.push_back({address, std::string(name)});
    }
    std::stable_sort(m.symbols_.begin(), m.symbols_.end(),
                     [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
    if (m.text_end_ == 0 && !m.symbols_.empty())
        m.text_end_ = m.symbols_.back().address;
    return m;
}

std::optional<std::string> SystemMap::describe(std::uint64_t address) const {
    if (symbols_.empty() || address < symbols_.front().address || address > text_end_)
        return std::nullopt;
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                               [](std::uint64_t a, const Symbol& s) { return a < s.address; });
    const Symbol& s = *std::prev(it);
    return fmt::format("{}+{:#x}", s.name, address - s.address);
}

std::optional<std::uint64_t> SystemMap::address_of(std::string_view name) const {
    for (const auto& s : symbols_)
        if (s.name == name)
            return s.address;
    return std::nullopt;
}

std::optional<fs::path> system_map_for(const fs::path& bzimage, const std::string& release) {
    std::error_code ec;
    const auto dir = bzimage.parent_path();
    for (const auto& candidate : {dir / ("System.map-" + release), dir / "System.map",
                                  dir.parent_path().parent_path().parent_path() / "System.map"}) {
        if (fs::is_regular_file(candidate, ec))
            return candidate;
    }
    return std::nullopt;
}

}  // namespace ktstr::vmm::kernel
