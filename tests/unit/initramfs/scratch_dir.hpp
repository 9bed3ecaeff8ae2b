// A temporary directory for one test, removed with everything in it.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <stdlib.h>

#include <catch2/catch.hpp>

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

}  // namespace ktstr::test
