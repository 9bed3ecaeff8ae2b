// A temporary directory for one test, removed with everything in it, and
// reading a file back whole.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <stdlib.h>

#include <catch2/catch.hpp>

#include "ktstr/common/bytes.hpp"

namespace ktstr::test {

struct ScratchDir {
    std::filesystem::path path;
    ScratchDir() {
        std::string t = (std::filesystem::temp_directory_path() / "ktstr-initramfs-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()));
        path = t;
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    std::filesystem::path write(const std::string& rel, const std::string& content) const {
        const auto p = path / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
};

// A whole file (empty when it cannot be read: the checks then fail on it).
inline byte_buffer read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace ktstr::test
