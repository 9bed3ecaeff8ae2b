// The shared-library closure of host programs, checked against what the
// host's own loader says (ldd).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <elf.h>

#include <fmt/core.h>

#include "initramfs/elf_dynamic.hpp"
#include "initramfs/library_closure.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr;
using namespace ktstr::vmm::initramfs;

namespace {

// The files ldd resolves for a program, as the loader would open them.
std::set<fs::path> ldd_files(const fs::path& program) {
    const auto r = test::shell(fmt::format("ldd '{}'", program.string()));
    REQUIRE(r.status == 0);
    std::set<fs::path> out;
    std::size_t pos = 0;
    while (pos < r.out.size()) {
        auto end = r.out.find('\n', pos);
        std::string line = r.out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        pos = end == std::string::npos ? r.out.size() : end + 1;
        if (auto arrow = line.find("=> "); arrow != std::string::npos)
            line = line.substr(arrow + 3);
        line = line.substr(line.find_first_not_of(" \t"));
        line = line.substr(0, line.find(' '));
        if (line.starts_with('/'))
            out.insert(line);
    }
    return out;
}

std::set<fs::path> guests(const std::vector<RuntimeFile>& files) {
    std::set<fs::path> out;
    for (const auto& f : files)
        out.insert(f.guest);
    return out;
}

}  // namespace

TEST_CASE("/bin/true brings its loader and libc", "[closure]") {
    const auto info = read_elf_dynamic("/bin/true");
    REQUIRE(info);
    CHECK(info->machine == EM_X86_64);
    CHECK(info->interpreter == "/lib64/ld-linux-x86-64.so.2");
    CHECK(std::find(info->needed.begin(), info->needed.end(), "libc.so.6") != info->needed.end());

    const auto files = runtime_files("/bin/true", "/bin/true", LibrarySearch::host());
    CHECK(guests(files) == ldd_files("/bin/true"));
    CHECK(guests(files).contains("/lib64/ld-linux-x86-64.so.2"));
    // Each file once, the loader not a second time as libc's DT_NEEDED.
    CHECK(files.size() == guests(files).size());
    for (const auto& f : files)
        CHECK(fs::is_regular_file(f.host));
}

TEST_CASE("a library in an absolute run path goes to /usr/lib, which no guest mount hides", "[closure]") {
    const auto info = read_elf_dynamic(KTSTR_RUNPATH_PROGRAM);
    REQUIRE(info);
    REQUIRE(info->runpath.size() == 1);
    CHECK(fs::path(info->runpath[0]).is_absolute());
    const auto files = runtime_files(KTSTR_RUNPATH_PROGRAM, "/ktstr/tests/program", LibrarySearch::host());
    const fs::path lib = fs::path(KTSTR_RUNPATH_LIB).filename();
    const auto it = std::find_if(files.begin(), files.end(), [&](const RuntimeFile& f) { return f.guest.filename() == lib; });
    REQUIRE(it != files.end());
    CHECK(it->guest == fs::path("/usr/lib") / lib);
    CHECK(fs::equivalent(it->host, KTSTR_RUNPATH_LIB));
}

TEST_CASE("libraries of libraries are followed (ls: libselinux needs libpcre2)", "[closure]") {
    const auto files = runtime_files("/bin/ls", "/usr/local/bin/ls", LibrarySearch::host());
    const auto g = guests(files);
    CHECK(g == ldd_files("/bin/ls"));
    bool pcre = std::any_of(g.begin(), g.end(), [](const fs::path& p) {
        return p.filename().string().starts_with("libpcre2-8.so");
    });
    CHECK(pcre);
}

TEST_CASE("static programs, scripts and data need nothing", "[closure]") {
    CHECK(runtime_files("/bin/busybox", "/bin/busybox", LibrarySearch::host()).empty());
    test::TempDir d{"initramfs"};
    const auto script = d.write("s.sh", "#!/bin/sh\necho hi\n");
    CHECK_FALSE(read_elf_dynamic(script));
    CHECK(runtime_files(script, "/s.sh", LibrarySearch::host()).empty());
    CHECK(runtime_files(d.write("empty", ""), "/e", LibrarySearch::host()).empty());
}

TEST_CASE("a library the loader cannot find is named", "[closure]") {
    LibrarySearch nowhere;
    nowhere.system_dirs = {"/nonexistent"};
    CHECK_THROWS_WITH(runtime_files("/bin/true", "/bin/true", nowhere), Catch::Contains("libc.so.6"));
}

TEST_CASE("a truncated ELF program is an error, not a crash", "[closure]") {
    test::TempDir d{"initramfs"};
    const auto r = test::shell(fmt::format("head -c 200 /bin/true > '{}/cut'", d.path().string()));
    REQUIRE(r.status == 0);
    CHECK_THROWS_AS(read_elf_dynamic(d.path() / "cut"), ElfError);
    CHECK_THROWS_AS(read_elf_dynamic(d.path() / "missing"), ElfError);
}

TEST_CASE("ld.so.conf: directories, comments, include globs", "[closure]") {
    test::TempDir d{"initramfs"};
    d.write("conf.d/b.conf", "/opt/b\n");
    d.write("conf.d/a.conf", "# comment\n  /opt/a   \nhwcap 0 nosegneg\n");
    d.write("conf.d/skip.txt", "/opt/never\n");
    const auto main = d.write("ld.so.conf", "/first\ninclude conf.d/*.conf\n/last=libc5\n");
    CHECK(read_ld_so_conf(main) == std::vector<fs::path>{"/first", "/opt/a", "/opt/b", "/last"});
    CHECK(read_ld_so_conf(d.path() / "missing").empty());
    // An include loop ends.
    d.write("loop.conf", "/x\ninclude loop.conf\n");
    CHECK(read_ld_so_conf(d.path() / "loop.conf").size() == 9);
}
