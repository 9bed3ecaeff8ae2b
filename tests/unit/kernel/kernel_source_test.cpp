// What identifies a kernel tree the user names, and which trees are refused.
#include <catch2/catch.hpp>

#include <chrono>

#include "kernel_build/build_errors.hpp"
#include "kernel_build/kernel_source.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr::vmm::kernel_build;
using ktstr::test::shell;
using ktstr::test::TempDir;

namespace {

const char* makefile = "# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 118\n"
                       "EXTRAVERSION = -rc1\nNAME = Baby Opossum Posse\n\nVERSION_LATER = 9\n";

// The top of a kernel tree, as far as user_source looks.
void make_kernel_tree(const TempDir& d) {
    d.write("Makefile", makefile);
    d.write("Kconfig", "mainmenu \"Linux\"\n");
    d.write("arch/x86/Kconfig", "");
    d.write("tools/sched_ext/Makefile", "");
    d.write("kernel/sched/ext.c", "int x;\n");
}

}  // namespace

TEST_CASE("the version in a kernel Makefile", "[kernel_build]") {
    CHECK(makefile_version(makefile) == "6.12.118-rc1");
    CHECK(makefile_version("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n") == "6.1.0");
    CHECK_FALSE(makefile_version("all:\n\techo\n"));
}

TEST_CASE("a plain tree is identified by its files' names, sizes and times", "[kernel_build]") {
    TempDir d{"ksrc"};
    make_kernel_tree(d);
    const auto a = file_tree_identity(d.path(), "6.12.118-rc1");
    CHECK(a.starts_with("tree 6.12.118-rc1 files "));
    CHECK(file_tree_identity(d.path(), "6.12.118-rc1") == a);
    d.write("kernel/sched/new.c", "");
    const auto b = file_tree_identity(d.path(), "6.12.118-rc1");
    CHECK(b != a);
    fs::last_write_time(d.path() / "kernel/sched/ext.c",
                        fs::last_write_time(d.path() / "kernel/sched/ext.c") + std::chrono::seconds(5));
    CHECK(file_tree_identity(d.path(), "6.12.118-rc1") != b);
    CHECK_FALSE(git_tree_identity(d.path()));  // not a git tree

    const auto s = user_source(d.path());
    CHECK(s.dir == fs::canonical(d.path()));
    CHECK(s.description == fs::canonical(d.path()).string());
    CHECK(s.identity.starts_with("tree 6.12.118-rc1 files "));
    CHECK_FALSE(s.in_use);
}

TEST_CASE("a git tree is identified by HEAD, its diff and its untracked files", "[kernel_build]") {
    TempDir d{"ksrc"};
    make_kernel_tree(d);
    const auto q = "'" + d.path().string() + "'";
    const auto git = "git -C " + q + " -c user.name=t -c user.email=t@t ";
    REQUIRE(shell(git + "init -q && " + git + "add -A && " + git + "commit -qm base").status == 0);
    const auto clean = git_tree_identity(d.path());
    REQUIRE(clean);
    CHECK(clean->starts_with("git "));
    CHECK(git_tree_identity(d.path()) == clean);
    d.write("kernel/sched/ext.c", "int y;\n");  // a change to a tracked file
    const auto changed = git_tree_identity(d.path());
    CHECK(changed != clean);
    d.write("kernel/sched/untracked.c", "");
    const auto untracked = git_tree_identity(d.path());
    CHECK(untracked != changed);
    REQUIRE(shell(git + "add -A && " + git + "commit -qm next").status == 0);
    const auto committed = git_tree_identity(d.path());
    CHECK(committed != clean);
    CHECK(committed->find(clean->substr(4, 40)) == std::string::npos);  // another HEAD
    CHECK(user_source(d.path()).identity == *committed);
    // A folder inside a git project is not that project's tree.
    fs::create_directories(d.path() / "sub");
    CHECK_FALSE(git_tree_identity(d.path() / "sub"));
}

TEST_CASE("trees a build refuses", "[kernel_build]") {
    TempDir d{"ksrc"};
    CHECK_THROWS_WITH(user_source(d.path() / "nope"), Catch::Contains("not a directory"));
    CHECK_THROWS_AS(user_source(d.path() / "nope"), BadBuildInput);
    CHECK_THROWS_WITH(user_source(d.path()), Catch::Contains("not a Linux kernel tree"));
    make_kernel_tree(d);
    fs::remove_all(d.path() / "tools/sched_ext");
    CHECK_THROWS_WITH(user_source(d.path()), Catch::Contains("no tools/sched_ext"));
    d.write("tools/sched_ext/Makefile", "");
    d.write(".config", "CONFIG_SMP=y\n");
    CHECK_THROWS_WITH(user_source(d.path()), Catch::Contains("configured in place"));
}
