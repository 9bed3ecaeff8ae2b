#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/host/capped_file.hpp"
#include "temp_dir.hpp"

using namespace ktstr;
using namespace ktstr::host;
using ktstr::host::test::TempDir;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("capped file: created on the first bytes, mode 0600, bytes kept in order") {
    TempDir dir;
    CappedFile f(dir.path() / "scheduler.log", 1024);
    CHECK(f.write({}));
    CHECK_FALSE(f.exists());
    CHECK_FALSE(std::filesystem::exists(dir.path() / "scheduler.log"));
    CHECK(f.write(as_bytes("hello ")));
    CHECK(f.write(as_bytes("world\n")));
    CHECK(f.exists());
    CHECK(slurp(f.path()) == "hello world\n");
    CHECK(f.written() == 12);
    CHECK(f.left_out() == 0);
    struct stat st {};
    REQUIRE(::stat(f.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("capped file: past the cap the rest is counted and one closing line says so") {
    TempDir dir;
    CappedFile f(dir.path() / "dump.log", 10);
    CHECK(f.write(as_bytes("0123456")));
    CHECK(f.write(as_bytes("789abc")));  // 3 fit
    CHECK(f.write(as_bytes("more")));
    CHECK(f.written() == 10);
    CHECK(f.left_out() == 7);
    const auto text = slurp(f.path());
    CHECK(text.starts_with("0123456789\n[ktstr-vmm: this file reached its cap of 10 bytes"));
    // The note is written once.
    CHECK(text.find("[ktstr-vmm:") == text.rfind("[ktstr-vmm:"));
}

TEST_CASE("capped file: an existing file or a link is not reused; the error is kept and later bytes counted") {
    TempDir dir;
    dir.write("taken", "someone else's");
    ::symlink((dir.path() / "taken").c_str(), (dir.path() / "link").c_str());
    for (const char* name : {"taken", "link"}) {
        CappedFile f(dir.path() / name, 100);
        CHECK_FALSE(f.write(as_bytes("guest bytes")));
        CHECK(f.error().find("cannot create") != std::string::npos);
        CHECK_FALSE(f.write(as_bytes("more")));
        CHECK(f.left_out() == 15);
    }
    CHECK(slurp(dir.path() / "taken") == "someone else's");
}

TEST_CASE("capped file sink: shares the file with its caller") {
    TempDir dir;
    auto f = std::make_shared<CappedFile>(dir.path() / "x", 4);
    auto sink = capped_file_sink(f);
    CHECK(sink(as_bytes("abcdef")));
    CHECK(f->written() == 4);
    CHECK(f->left_out() == 2);
}
