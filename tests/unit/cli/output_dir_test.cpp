#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>

#include "cli/output_dir.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::cli;
namespace fs = std::filesystem;

TEST_CASE("run output directory: new, private, unpredictable; removed at the end only when empty") {
    const ktstr::test::TempDir base("cli-test");
    fs::path first, second;
    {
        RunOutputDir a(base.path()), b(base.path());
        first = a.path();
        second = b.path();
        CHECK(first != second);
        CHECK(first.parent_path() == base.path());
        CHECK(first.filename().string().starts_with("ktstr-vmm-run-"));
        CHECK(first.filename().string().size() == std::string("ktstr-vmm-run-XXXXXX").size());
        struct stat st {};
        REQUIRE(::lstat(first.c_str(), &st) == 0);
        CHECK(S_ISDIR(st.st_mode));
        CHECK((st.st_mode & 07777) == 0700);
        std::ofstream(second / "capture") << "kept";
    }
    CHECK_FALSE(fs::exists(first));                  // empty: removed
    CHECK(fs::exists(second / "capture"));           // a capture went there: kept
}

TEST_CASE("run output directory: a base that does not exist is a one-line error") {
    const ktstr::test::TempDir base("cli-test");
    CHECK_THROWS_WITH(RunOutputDir(base.path() / "missing"),
                      Catch::StartsWith("cannot create an output directory in " + (base.path() / "missing").string()));
}

TEST_CASE("run output directory: the base is $TMPDIR, else /tmp") {
    const char* old = std::getenv("TMPDIR");
    const std::string saved = old ? old : "";
    ::setenv("TMPDIR", "/some/where", 1);
    CHECK(default_output_base() == "/some/where");
    ::setenv("TMPDIR", "", 1);
    CHECK(default_output_base() == "/tmp");
    if (old)
        ::setenv("TMPDIR", saved.c_str(), 1);
    else
        ::unsetenv("TMPDIR");
}
