// Names for built kernels: links in the kernels folder, never a release.
#include <catch2/catch.hpp>

#include "kernel_build/kernel_name.hpp"

using namespace ktstr::vmm::kernel_build;

TEST_CASE("kernel names", "[kernel_build]") {
    CHECK_FALSE(name_problem("mine"));
    CHECK_FALSE(name_problem("scx-v2.1_test"));
    CHECK_FALSE(name_problem(std::string(64, 'a')));
    CHECK(*name_problem("") == "kernel name '': 1 to 64 characters");
    CHECK(name_problem(std::string(65, 'a')));
    CHECK(name_problem("default")->find("reserved") != std::string::npos);
    CHECK(name_problem("sched-ext")->find("reserved") != std::string::npos);
    CHECK(name_problem("6.12.118-ktstr-0123456789ab")->find("start with a letter") != std::string::npos);
    CHECK(name_problem(".lock"));
    CHECK(name_problem("-x"));
    CHECK(name_problem("a/b")->find("only letters") != std::string::npos);
    CHECK(name_problem("a b"));
    CHECK(name_problem(".."));
}
