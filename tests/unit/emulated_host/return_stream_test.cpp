#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emulated_host/return_stream.hpp"
#include "ktstr/common/bytes.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::emulated_host;
using ktstr::test::TempDir;
using ktstr::test::read_text;
using ktstr::test::write_text;
namespace fs = std::filesystem;

namespace {

ktstr::byte_view bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The stream the guest side writes: some stdout and stderr, the outputs,
// the end record; captured in a file.
std::vector<std::uint8_t> stream_of(const fs::path& scratch, const std::vector<fs::path>& outputs,
                                    const std::string& out = "", const std::string& err = "") {
    const auto file = scratch / "stream.bin";
    {
        ktstr::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        REQUIRE(fd);
        write_output_chunk(fd.get(), return_kind_stdout, bytes_of(out));
        write_output_chunk(fd.get(), return_kind_stderr, bytes_of(err));
        write_outputs(fd.get(), outputs);
        write_end(fd.get());
    }
    const auto s = read_text(file);
    fs::remove(file);
    return {s.begin(), s.end()};
}

void feed_in_chunks(ReturnStreamReceiver& r, const std::vector<std::uint8_t>& s, std::size_t chunk) {
    for (std::size_t i = 0; i < s.size(); i += chunk)
        r.feed(ktstr::byte_view(s).subspan(i, std::min(chunk, s.size() - i)));
}

// A header by hand, for hostile streams.
std::vector<std::uint8_t> header(const char* magic, std::uint32_t kind, std::uint32_t mode, const std::string& path,
                                 std::uint64_t size, std::uint32_t path_len_override = UINT32_MAX) {
    // Sized once and filled in place (GCC 12 misreads vector::insert here).
    std::vector<std::uint8_t> h(sizeof(ReturnRecordHeader) + path.size());
    std::memcpy(h.data(), magic, 4);
    ktstr::store_le<std::uint32_t>(h.data() + 4, kind);
    ktstr::store_le<std::uint32_t>(h.data() + 8, mode);
    ktstr::store_le<std::uint32_t>(h.data() + 12,
                                   path_len_override != UINT32_MAX ? path_len_override : static_cast<std::uint32_t>(path.size()));
    ktstr::store_le<std::uint64_t>(h.data() + 16, size);
    std::memcpy(h.data() + sizeof(ReturnRecordHeader), path.data(), path.size());
    return h;
}

std::vector<std::uint8_t> end_record() {
    return header("KTOF", return_kind_end, 0, "", 0);
}

}  // namespace

// A receiver collecting stdout and stderr.
struct Collecting {
    std::string out, err;
    ReturnStreamReceiver receiver;
    explicit Collecting(ReturnOutputs outputs)
        : receiver(std::move(outputs), [this](std::uint32_t kind, ktstr::byte_view b) {
              (kind == return_kind_stdout ? out : err).append(reinterpret_cast<const char*>(b.data()), b.size());
          }) {}
};

TEST_CASE("return stream: output chunks, files and a directory tree come back byte for byte, whatever the read sizes") {
    TempDir scratch{"retstream"};
    const auto report = scratch.path() / "out" / "report.txt";
    const auto tree = scratch.path() / "out" / "tree";
    fs::create_directories(tree / "sub" / "empty");
    write_text(report.string(), "api_version=12\n");
    std::string big(300000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>(i * 7 + 3);
    write_text(tree / "sub" / "big.bin", big);
    write_text(tree / "empty.txt", "");
    ::chmod((tree / "empty.txt").c_str(), 0640);
    fs::create_symlink("/etc/passwd", tree / "link");  // skipped: not a regular file

    const std::vector<fs::path> outputs{report, tree, scratch.path() / "out" / "never-written"};
    std::string big_out(3 * (1 << 20) + 5, 'o');  // more than one chunk record
    const auto stream = stream_of(scratch.path(), outputs, big_out, "an error\n");

    for (std::size_t chunk : {std::size_t{7}, std::size_t{4096}, std::size_t{100000}, stream.size()}) {
        // Move the originals away; the receiver must recreate them.
        const auto saved = scratch.path() / "saved";
        fs::rename(scratch.path() / "out", saved);
        Collecting c({.files = {report, scratch.path() / "out" / "never-written"}, .directories = {tree}});
        auto& r = c.receiver;
        feed_in_chunks(r, stream, chunk);
        CHECK(r.ended());
        CHECK_FALSE(r.finish());
        CHECK(c.out == big_out);
        CHECK(c.err == "an error\n");
        CHECK(read_text(report) == "api_version=12\n");
        CHECK(read_text(tree / "sub" / "big.bin") == big);
        CHECK(fs::exists(tree / "empty.txt"));
        CHECK(fs::file_size(tree / "empty.txt") == 0);
        CHECK((fs::status(tree / "empty.txt").permissions() & fs::perms::group_read) != fs::perms::none);
        CHECK(fs::is_directory(tree / "sub" / "empty"));
        CHECK_FALSE(fs::exists(tree / "link"));
        CHECK_FALSE(fs::exists(scratch.path() / "out" / "never-written"));
        fs::remove_all(scratch.path() / "out");
        fs::rename(saved, scratch.path() / "out");
    }
}

TEST_CASE("return stream: no bytes at all is not an error (the guest never got that far)") {
    ReturnStreamReceiver r({.files = {"/nonexistent/out"}}, {});
    CHECK_FALSE(r.finish());
}

TEST_CASE("return stream: hostile records are refused and nothing lands outside the declared outputs") {
    TempDir scratch{"retstream"};
    const auto allowed = scratch.path() / "allowed";
    const auto outside = scratch.path() / "outside.txt";
    struct Case {
        const char* what;
        std::vector<std::uint8_t> bytes;
        const char* error;
    };
    auto with_end = [](std::vector<std::uint8_t> v) {
        for (auto b : end_record())
            v.push_back(b);
        return v;
    };
    std::vector<Case> cases{
        {"bad magic", with_end(header("XXXX", return_kind_file, 0644, allowed.string(), 0)), "bad record magic"},
        {"unknown kind", with_end(header("KTOF", 9, 0644, allowed.string(), 0)), "unknown record kind 9"},
        {"path outside the outputs", with_end(header("KTOF", return_kind_file, 0644, outside.string(), 0)),
         "not one of the declared outputs"},
        {"dot-dot escape", with_end(header("KTOF", return_kind_file, 0644, allowed.string() + "/../outside.txt", 0)),
         "not a plain absolute path"},
        {"relative path", with_end(header("KTOF", return_kind_file, 0644, "relative/file", 0)),
         "not a plain absolute path"},
        {"prefix that is not a parent", with_end(header("KTOF", return_kind_file, 0644, allowed.string() + "-x", 0)),
         "not one of the declared outputs"},
        {"huge path length", header("KTOF", return_kind_file, 0644, "", 0, 1u << 31), "bad record"},
        {"empty path", header("KTOF", return_kind_file, 0644, "", 0), "bad record"},
        {"directory with content", header("KTOF", return_kind_directory, 0755, allowed.string(), 5), "kind 2 with content"},
        {"empty output chunk", header("KTOF", return_kind_stdout, 0, "", 0), "a 0-byte output chunk"},
        {"huge output chunk", header("KTOF", return_kind_stderr, 0, "", 1ull << 40), "output chunk"},
        {"output chunk with a path", header("KTOF", return_kind_stdout, 0, "/x", 1), "bad record"},
        {"end record with a path", header("KTOF", return_kind_end, 0, "/x", 0), "bad record"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        ReturnStreamReceiver r({.directories = {allowed}}, {});
        r.feed(c.bytes);
        auto err = r.finish();
        REQUIRE(err);
        CHECK_THAT(*err, Catch::Contains(c.error));
        CHECK_FALSE(fs::exists(outside));
    }
}

TEST_CASE("return stream: a stream cut inside a file leaves no file, not even the partial one") {
    TempDir scratch{"retstream"};
    const auto target = scratch.path() / "report.txt";
    auto bytes = header("KTOF", return_kind_file, 0644, target.string(), 1000);
    bytes.resize(bytes.size() + 10, 'x');
    ReturnStreamReceiver r({.files = {target}}, {});
    r.feed(bytes);
    auto err = r.finish();
    REQUIRE(err);
    CHECK_THAT(*err, Catch::Contains("990 bytes short"));
    CHECK_FALSE(fs::exists(target));
    CHECK(fs::is_empty(scratch.path()));
}

TEST_CASE("return stream: a stream without its end record, and bytes after it, are errors") {
    TempDir scratch{"retstream"};
    const auto target = scratch.path() / "a";
    {
        ReturnStreamReceiver r({.files = {target}}, {});
        r.feed(header("KTOF", return_kind_file, 0644, target.string(), 0));
        auto err = r.finish();
        REQUIRE(err);
        CHECK_THAT(*err, Catch::Contains("without its end record"));
    }
    {
        ReturnStreamReceiver r({.files = {target}}, {});
        auto bytes = end_record();
        bytes.push_back(0);
        r.feed(bytes);
        auto err = r.finish();
        REQUIRE(err);
        CHECK_THAT(*err, Catch::Contains("after the end record"));
    }
}

TEST_CASE("return stream: is_plain_absolute") {
    CHECK(is_plain_absolute("/a/b"));
    CHECK(is_plain_absolute("/"));
    CHECK_FALSE(is_plain_absolute("a/b"));
    CHECK_FALSE(is_plain_absolute("/a/../b"));
    CHECK_FALSE(is_plain_absolute("/a/./b"));
    CHECK_FALSE(is_plain_absolute("/a/b/"));
}

TEST_CASE("return stream: a returned file keeps its permission bits but never setuid, setgid or sticky") {
    TempDir scratch{"retstream"};
    const auto target = scratch.path() / "tool";
    auto bytes = header("KTOF", return_kind_file, 06755 | 01000, target.string(), 2);
    bytes.push_back('#');
    bytes.push_back('!');
    for (auto b : end_record())
        bytes.push_back(b);
    ReturnStreamReceiver r({.files = {target}}, {});
    r.feed(bytes);
    CHECK_FALSE(r.finish());
    struct stat st {};
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK((st.st_mode & 07000) == 0);
    CHECK((st.st_mode & 0700) == 0700);  // the permission bits themselves stay
}

TEST_CASE("return stream: repeated directory and empty-file records do not grow the receiver") {
    // A hostile guest repeated such records for 738 MiB and the host grew
    // to 1.8 GiB: every record was appended to a list. The heap in use
    // (glibc's count; a sanitizer's allocator reports nothing and the test
    // then checks nothing) must not grow with the number of records.
    TempDir scratch{"retstream"};
    const auto dir = scratch.path() / "out";
    const auto dir_record = header("KTOF", return_kind_directory, 0755, (dir / "sub").string(), 0);
    const auto file_record = header("KTOF", return_kind_file, 0644, (dir / "empty").string(), 0);
    ReturnStreamReceiver r({.directories = {dir}}, {}, {.max_entries = 1'000'000});
    r.feed(dir_record);
    r.feed(file_record);
    const auto before = ::mallinfo2().uordblks;
    for (int i = 0; i < 20000; ++i) {
        r.feed(dir_record);
        r.feed(file_record);
    }
    const auto after = ::mallinfo2().uordblks;
    CHECK(after <= before + 64 * 1024);
    r.feed(end_record());
    CHECK_FALSE(r.finish());
    CHECK(fs::is_directory(dir / "sub"));
    CHECK(fs::is_regular_file(dir / "empty"));
}

TEST_CASE("return stream: a file record naming a declared output directory itself is refused, nothing lands next to it") {
    TempDir scratch{"retstream"};
    const auto out = scratch.path() / "out";
    auto file_record = header("KTOF", return_kind_file, 0644, out.string(), 3);
    SECTION("the directory does not exist yet") {
        ReturnStreamReceiver r({.directories = {out}}, {});
        r.feed(file_record);
        CHECK(fs::is_empty(scratch.path()));  // no "out.ktstr-partial" beside it
        r.feed(bytes_of("abc"));
        r.feed(end_record());
        const auto err = r.finish();
        REQUIRE(err);
        CHECK_THAT(*err, Catch::Contains("refused path") && Catch::Contains("declared directory"));
        CHECK(fs::is_empty(scratch.path()));
    }
    SECTION("the stream made it a directory first") {
        ReturnStreamReceiver r({.directories = {out}}, {});
        r.feed(header("KTOF", return_kind_directory, 0755, out.string(), 0));
        r.feed(file_record);
        CHECK(std::vector<fs::path>(fs::directory_iterator(scratch.path()), {}) == std::vector<fs::path>{out});
        REQUIRE(r.error());
        CHECK_THAT(*r.error(), Catch::Contains("declared directory"));
    }
    SECTION("a directory record naming a declared file is refused too") {
        const auto report = scratch.path() / "report.txt";
        ReturnStreamReceiver r({.files = {report}}, {});
        r.feed(header("KTOF", return_kind_directory, 0755, report.string(), 0));
        REQUIRE(r.error());
        CHECK_THAT(*r.error(), Catch::Contains("declared file"));
        CHECK(fs::is_empty(scratch.path()));
    }
}

TEST_CASE("return stream: a symbolic link planted inside an output directory is never followed") {
    TempDir scratch{"retstream"};
    const auto out = scratch.path() / "out";
    const auto elsewhere = scratch.path() / "elsewhere";
    fs::create_directories(out);
    fs::create_directories(elsewhere);
    fs::create_directory_symlink(elsewhere, out / "link");
    const auto victim = scratch.path() / "victim.txt";
    write_text(victim, "precious");
    fs::create_symlink(victim, out / "file-link");

    struct Case {
        const char* what;
        std::vector<std::uint8_t> bytes;
    };
    auto file_record = [](const fs::path& p, const std::string& content) {
        auto v = header("KTOF", return_kind_file, 0644, p.string(), content.size());
        v.insert(v.end(), content.begin(), content.end());
        return v;
    };
    const std::vector<Case> cases{
        {"a file below the link", file_record(out / "link" / "x", "pwned")},
        {"a file deeper below the link", file_record(out / "link" / "a" / "b", "pwned")},
        {"a directory below the link", header("KTOF", return_kind_directory, 0755, (out / "link" / "sub").string(), 0)},
        {"the link as a directory", header("KTOF", return_kind_directory, 0755, (out / "link").string(), 0)},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        ReturnStreamReceiver r({.directories = {out}}, {});
        r.feed(c.bytes);
        r.feed(end_record());
        const auto err = r.finish();
        REQUIRE(err);
        CHECK_THAT(*err, Catch::Contains("symbolic link"));
        CHECK(fs::is_empty(elsewhere));
    }
    // A file record naming the link replaces the link itself, not its target.
    ReturnStreamReceiver r({.directories = {out}}, {});
    r.feed(file_record(out / "file-link", "new"));
    r.feed(end_record());
    CHECK_FALSE(r.finish());
    CHECK(read_text(victim) == "precious");
    CHECK_FALSE(fs::is_symlink(out / "file-link"));
    CHECK(read_text(out / "file-link") == "new");
}

TEST_CASE("return stream: the bytes the files may take are bounded, checked before anything is written") {
    TempDir scratch{"retstream"};
    const auto out = scratch.path() / "out";
    const std::string first(600, 'a');
    auto stream = header("KTOF", return_kind_file, 0644, (out / "first").string(), first.size());
    stream.insert(stream.end(), first.begin(), first.end());
    // 600 + 500 > 1000: refused from its header, though its content never comes.
    const auto second = header("KTOF", return_kind_file, 0644, (out / "second").string(), 500);
    stream.insert(stream.end(), second.begin(), second.end());
    ReturnStreamReceiver r({.directories = {out}}, {}, {.max_file_bytes = 1000});
    r.feed(stream);
    const auto err = r.finish();
    REQUIRE(err);
    CHECK(err->find("500 bytes would take the outputs past 1000 bytes") != std::string::npos);
    CHECK(read_text(out / "first") == first);
    CHECK_FALSE(fs::exists(out / "second"));
    CHECK_FALSE(fs::exists(out / "second.ktstr-partial"));

    SECTION("a size near 2^64 does not wrap the count") {
        ReturnStreamReceiver huge({.directories = {out}}, {}, {.max_file_bytes = 1000});
        huge.feed(header("KTOF", return_kind_file, 0644, (out / "third").string(), UINT64_MAX - 10));
        REQUIRE(huge.finish());
        CHECK_FALSE(fs::exists(out / "third.ktstr-partial"));
    }
}

TEST_CASE("return stream: the number of files and directories is bounded") {
    TempDir scratch{"retstream"};
    const auto out = scratch.path() / "out";
    ReturnStreamReceiver r({.directories = {out}}, {}, {.max_entries = 3});
    for (int i = 0; i < 3; ++i)
        r.feed(header("KTOF", return_kind_directory, 0755, (out / ("d" + std::to_string(i))).string(), 0));
    CHECK_FALSE(r.error());
    r.feed(header("KTOF", return_kind_file, 0644, (out / "f").string(), 0));
    const auto err = r.error();
    REQUIRE(err);
    CHECK(err->find("more than 3 files and directories") != std::string::npos);
    CHECK(fs::is_directory(out / "d2"));
    CHECK_FALSE(fs::exists(out / "f"));
}
