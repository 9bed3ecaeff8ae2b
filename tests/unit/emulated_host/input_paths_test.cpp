#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "emulated_host/input_paths.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::emulated_host;
namespace fs = std::filesystem;

namespace {
}  // namespace

TEST_CASE("absolute_from: relative to the working directory, normalised, no trailing slash") {
    CHECK(absolute_from("a/../b", "/w") == fs::path("/w/b"));
    CHECK(absolute_from("/x/./y/", "/w") == fs::path("/x/y"));
    CHECK(absolute_from(".", "/w") == fs::path("/w"));
    CHECK(absolute_from("/", "/w") == fs::path("/"));
}

TEST_CASE("files_named_by: existing regular files, as arguments or --option=value, once each") {
    ktstr::test::TempDir d("inputs");
    std::ofstream(d.path() / "code.bin") << "x";
    std::ofstream(d.path() / "other") << "y";
    fs::create_directory(d.path() / "dir");
    const std::vector<std::string> args{
        "kvm-check",      "--code",           "code.bin",   "--x=" + (d.path() / "other").string(),
        "code.bin",       (d.path() / "dir").string(), "missing", "/dev/null",
        "/proc/self/status", "--report=report.txt",
    };
    std::ofstream(d.path() / "report.txt") << "old";
    const auto files = files_named_by(args, {d.path() / "report.txt"}, d.path());
    CHECK(files == std::vector<fs::path>{d.path() / "code.bin", d.path() / "other"});
}
