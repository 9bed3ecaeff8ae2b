// The kernels folder's links: set by rename, read only when relative and
// inside the folder, listed per release.
#include <catch2/catch.hpp>

#include "kernel/cache_link.hpp"
#include "ktstr/test/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ktstr::vmm::kernel;
using ktstr::test::TempDir;

TEST_CASE("cache links are set, replaced, read and listed", "[kernel]") {
    TempDir d{"kernel"};
    const auto root = d.path();
    fs::create_directories(root / "6.1.0-1" );
    fs::create_directories(root / "6.1.0-2");
    CHECK_FALSE(read_cache_link(root, "default"));
    set_cache_link(root, "default", "6.1.0-1");
    set_cache_link(root, "sched-ext", "6.1.0-1");
    CHECK(read_cache_link(root, "default") == "6.1.0-1");
    CHECK(fs::read_symlink(root / "default") == "6.1.0-1");  // relative
    CHECK(links_to(root, "6.1.0-1") == std::vector<std::string>{"default", "sched-ext"});
    set_cache_link(root, "sched-ext", "6.1.0-2");
    CHECK(read_cache_link(root, "sched-ext") == "6.1.0-2");
    CHECK(links_to(root, "6.1.0-1") == std::vector<std::string>{"default"});
    CHECK_FALSE(fs::exists(root / ".sched-ext.new"));
    fs::create_directory_symlink("../elsewhere", root / "escape");
    CHECK_FALSE(read_cache_link(root, "escape"));
    CHECK_FALSE(read_cache_link(root, "6.1.0-1"));  // a directory, not a link
}
