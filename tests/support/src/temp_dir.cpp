#include "ktstr/test/temp_dir.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include <stdlib.h>

#include "ktstr/test/file_contents.hpp"

namespace ktstr::test {

TempDir::TempDir(std::string_view tag) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("ktstr-" + std::string(tag) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;  // a destructor must not throw; a leftover is only litter
    std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::filesystem::path& rel, std::string_view content) const {
    const auto p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    write_text(p, content);
    return p;
}

}  // namespace ktstr::test
