// flock-based locks: exclusive, shared, and "is anyone using this?".
#include <catch2/catch.hpp>

#include "kernel/file_lock.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::kernel;
using ktstr::test::TempDir;

TEST_CASE("try_exclusive fails while anyone holds the lock", "[kernel]") {
    TempDir d{"lock"};
    const auto path = d.path() / "x.lock";
    CHECK_FALSE(FileLock::try_exclusive(path));  // missing: not created
    CHECK_FALSE(std::filesystem::exists(path));
    {
        FileLock shared(path, FileLock::Mode::shared);
        FileLock another(path, FileLock::Mode::shared);  // shared locks coexist
        CHECK_FALSE(FileLock::try_exclusive(path));
    }
    {
        auto held = FileLock::try_exclusive(path);
        REQUIRE(held);
        CHECK_FALSE(FileLock::try_exclusive(path));
        FileLock moved = std::move(*held);  // the lock moves with the object
        held.reset();
        CHECK_FALSE(FileLock::try_exclusive(path));
    }
    CHECK(FileLock::try_exclusive(path));
    CHECK_THROWS_WITH(FileLock(d.path() / "no/such/dir/x.lock"), Catch::Contains("x.lock"));
}
