// The cpio newc writer, checked by our reader and by two other
// implementations: GNU cpio(1) and libarchive's bsdtar(1).
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include <sys/stat.h>

#include <fmt/core.h>

#include "initramfs/compressed_file_writer.hpp"
#include "initramfs/cpio_reader.hpp"
#include "initramfs/cpio_writer.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/shell_command.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr;
using namespace ktstr::vmm::initramfs;

namespace {

byte_view bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// The same sample archive for every check: nested folders, modes, a
// symlink, a device, an empty file, a file read from the host, a file
// whose size is not a multiple of 4.
void write_sample(CpioWriter& w, const fs::path& host_file) {
    w.directory("/etc/ktstr");
    w.file("/etc/ktstr/command", bytes(std::string("/bin/sh\0-c\0true\0", 16)), 0644);
    w.file("/a/b/c/d/deep.txt", bytes("deep"), 0600);
    w.file("/bin/tool", bytes("#!/bin/sh\necho tool\n"), 0755);
    w.file("/bin/setuid", bytes("x"), 04755);
    w.file("/empty", bytes(""), 0444);
    w.symlink("/bin/sh", "busybox");
    w.symlink("/lib64", "/usr/lib64");
    w.char_device("/dev/console", 5, 1, 0600);
    w.directory("/tmp", 01777);
    w.host_file("/host/copy.bin", host_file);
    w.finish();
}

std::string sample_host_content() {
    std::string s;
    for (int i = 0; i < 100003; ++i)
        s.push_back(static_cast<char>('a' + i % 26));
    return s;
}

void check_sample(const std::vector<CpioEntry>& entries) {
    std::map<std::string, const CpioEntry*> by;
    for (const auto& e : entries) {
        CHECK_FALSE(by.contains(e.path));  // each path once
        by[e.path] = &e;
    }
    auto get = [&](const std::string& p) -> const CpioEntry& {
        INFO(p);
        REQUIRE(by.contains(p));
        return *by.at(p);
    };
    CHECK(get("etc/ktstr/command").text() == std::string("/bin/sh\0-c\0true\0", 16));
    CHECK(get("a/b/c/d/deep.txt").text() == "deep");
    CHECK((get("a/b/c/d/deep.txt").mode & 07777) == 0600);
    for (const char* d : {"a", "a/b", "a/b/c", "a/b/c/d", "etc", "etc/ktstr", "bin", "dev", "host"}) {
        INFO(d);
        CHECK(get(d).is_directory());
    }
    CHECK((get("tmp").mode & 07777) == 01777);
    CHECK((get("bin/tool").mode & 07777) == 0755);
    CHECK((get("bin/setuid").mode & 07777) == 04755);
    CHECK(get("empty").data.empty());
    CHECK(get("bin/sh").is_symlink());
    CHECK(get("bin/sh").text() == "busybox");
    CHECK(get("lib64").text() == "/usr/lib64");
    CHECK(get("dev/console").is_char_device());
    CHECK(get("dev/console").rdev_major == 5);
    CHECK(get("dev/console").rdev_minor == 1);
    CHECK(get("host/copy.bin").text() == sample_host_content());
    // Parents come before their children.
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < entries.size(); ++i)
        index[entries[i].path] = i;
    for (const auto& e : entries) {
        const auto slash = e.path.rfind('/');
        if (slash != std::string::npos)
            CHECK(index.at(e.path.substr(0, slash)) < index.at(e.path));
    }
}

using test::read_bytes;

}  // namespace

TEST_CASE("cpio writer output reads back through our reader", "[cpio]") {
    test::TempDir d{"initramfs"};
    const auto host = d.write("host.bin", sample_host_content());
    byte_buffer archive;
    CpioWriter w([&](byte_view b) { archive.insert(archive.end(), b.begin(), b.end()); });
    write_sample(w, host);
    CHECK(archive.size() % 512 == 0);
    CHECK(w.payload_bytes() == 16 + 4 + 20 + 1 + 0 + 100003);
    check_sample(read_cpio(archive));

    // The same input gives the same bytes (mtime 0, fixed inode order).
    byte_buffer again;
    CpioWriter w2([&](byte_view b) { again.insert(again.end(), b.begin(), b.end()); });
    write_sample(w2, host);
    CHECK(again == archive);
}

TEST_CASE("cpio(1) and bsdtar(1) read the writer's output, compressed or not", "[cpio]") {
    test::TempDir d{"initramfs"};
    const auto host = d.write("host.bin", sample_host_content());
    for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
        const auto image = d.path() / fmt::format("image.{}", compression_name(c));
        {
            CompressedFileWriter f(image, c);
            CpioWriter w([&](byte_view b) { f.write(b); });
            write_sample(w, host);
            f.finish();
        }
        INFO(image.string());
        check_sample(read_initramfs(read_bytes(image)));

        // bsdtar -tv: type and mode letters, owner, target of links.
        auto t = test::shell(fmt::format("bsdtar -tvf '{}'", image.string()));
        REQUIRE(t.status == 0);
        CHECK(t.out.find("-rw-------  1 0      0           4 Jan  1  1970 a/b/c/d/deep.txt") != std::string::npos);
        CHECK(t.out.find("-rwsr-xr-x") != std::string::npos);
        CHECK(t.out.find("drwxrwxrwt") != std::string::npos);
        CHECK(t.out.find("bin/sh -> busybox") != std::string::npos);
        CHECK(t.out.find("crw-------  1 0      0         5,1 Jan  1  1970 dev/console") != std::string::npos);
        CHECK(t.out.find("100003 Jan  1  1970 host/copy.bin") != std::string::npos);

        // GNU cpio reads the stream (decompressed by the matching tool).
        const char* cat = c == Compression::gzip ? "gzip -dc" : c == Compression::zstd ? "zstd -dc" : "cat";
        auto l = test::shell(fmt::format("{} '{}' | cpio -t --quiet", cat, image.string()));
        REQUIRE(l.status == 0);
        CHECK(l.out.find("a/b/c/d/deep.txt\n") != std::string::npos);
        CHECK(l.out.find("dev/console\n") != std::string::npos);

        // Extracted by cpio: contents, modes and link targets as written.
        const auto x = d.path() / fmt::format("x-{}", compression_name(c));
        fs::create_directories(x);
        auto e = test::shell(fmt::format("cd '{}' && {} '{}' | cpio -idm --quiet --no-absolute-filenames "
                                         "--nonmatching 'dev/console' 2>&1",
                                         x.string(), cat, image.string()));
        REQUIRE(e.status == 0);
        CHECK(test::shell(fmt::format("cat '{}'", (x / "a/b/c/d/deep.txt").string())).out == "deep");
        CHECK(fs::read_symlink(x / "bin/sh") == "busybox");
        CHECK((fs::status(x / "bin/tool").permissions() & fs::perms::owner_exec) != fs::perms::none);
        CHECK(fs::file_size(x / "host/copy.bin") == 100003);
        CHECK(fs::file_size(x / "empty") == 0);
    }
}

TEST_CASE("cpio writer refuses bad paths and duplicates", "[cpio]") {
    byte_buffer sink;
    CpioWriter w([&](byte_view b) { sink.insert(sink.end(), b.begin(), b.end()); });
    CHECK_THROWS_AS(w.file("/a/../b", bytes("x")), CpioError);
    CHECK_THROWS_AS(w.file("/./b", bytes("x")), CpioError);
    CHECK_THROWS_AS(w.file("/", bytes("x")), CpioError);
    CHECK_THROWS_AS(w.file(std::string(5000, 'a'), bytes("x")), CpioError);
    CHECK_THROWS_AS(w.symlink("/l", ""), CpioError);
    w.file("/x", bytes("1"));
    CHECK_THROWS_WITH(w.file("/x", bytes("2")), Catch::Contains("twice"));
    CHECK_THROWS_WITH(w.file("/x/y", bytes("2")), Catch::Contains("not a directory"));
    w.directory("/d");
    CHECK_NOTHROW(w.directory("/d"));  // a directory twice is fine
    CHECK_THROWS_AS(w.host_file("/h", "/nonexistent/file"), CpioError);
    CHECK(CpioWriter::normalize("//a///b/") == "a/b");
}

TEST_CASE("cpio reader rejects malformed archives with a clear error", "[cpio]") {
    byte_buffer good;
    CpioWriter w([&](byte_view b) { good.insert(good.end(), b.begin(), b.end()); });
    w.file("/f", bytes("hello"));
    w.finish();
    REQUIRE(read_cpio(good).size() == 1);

    auto with = [&](auto change) {
        auto b = good;
        change(b);
        return b;
    };
    CHECK_THROWS_WITH(read_cpio(byte_buffer{}), Catch::Contains("truncated"));
    CHECK_THROWS_WITH(read_cpio(byte_view(good.data(), 50)), Catch::Contains("truncated header"));
    CHECK_THROWS_WITH(read_cpio(with([](auto& b) { b[0] = 'X'; })), Catch::Contains("magic"));
    CHECK_THROWS_WITH(read_cpio(with([](auto& b) { b[20] = 'g'; })), Catch::Contains("hexadecimal"));
    // filesize (field 6) far beyond the data.
    CHECK_THROWS_WITH(read_cpio(with([](auto& b) { std::memcpy(b.data() + 6 + 6 * 8, "7fffffff", 8); })),
                      Catch::Contains("past the end"));
    // namesize (field 11) zero, huge, or without its NUL.
    CHECK_THROWS_WITH(read_cpio(with([](auto& b) { std::memcpy(b.data() + 6 + 11 * 8, "00000000", 8); })),
                      Catch::Contains("name size"));
    CHECK_THROWS_WITH(read_cpio(with([](auto& b) { std::memcpy(b.data() + 6 + 11 * 8, "ffffffff", 8); })),
                      Catch::Contains("name size"));
    CHECK_THROWS_WITH(read_cpio(with([](auto& b) { std::memcpy(b.data() + 6 + 11 * 8, "00000001", 8); })),
                      Catch::Contains("NUL"));
    // Cut before the trailer.
    CHECK_THROWS(read_cpio(byte_view(good.data(), 124)));
    // Garbage compressed data.
    byte_buffer gz{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3};
    CHECK_THROWS_AS(read_initramfs(gz), CompressionError);
}

TEST_CASE("cpio reader reads concatenated archives, as the kernel does", "[cpio]") {
    byte_buffer two;
    for (const char* name : {"/first", "/second"}) {
        CpioWriter w([&](byte_view b) { two.insert(two.end(), b.begin(), b.end()); });
        w.file(name, bytes(name));
        w.finish();
    }
    const auto entries = read_cpio(two);
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].path == "first");
    CHECK(entries[1].path == "second");
}
