#include <catch2/catch.hpp>

#include "guest_sandbox.hpp"
#include "ktstr/guest/kernel_cmdline.hpp"

using namespace ktstr::guest;

TEST_CASE("guest detection is read once and cached until the paths change", "[guest][cmdline]") {
    ktstr::test::GuestSandbox sb("quiet KTSTR_GUEST=1");
    CHECK(is_guest());
    sb.set_cmdline("quiet");
    CHECK(is_guest());  // cached
    sb.refresh();
    CHECK_FALSE(is_guest());
}

TEST_CASE("an unreadable command line means host context", "[guest][cmdline]") {
    ktstr::test::GuestSandbox sb;
    auto p = paths();
    p.cmdline = sb.path("does-not-exist");
    set_paths(p);
    CHECK(read_kernel_cmdline().empty());
    CHECK_FALSE(is_guest());
}
