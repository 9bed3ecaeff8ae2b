#include <catch2/catch.hpp>

#include "guest_sandbox.hpp"
#include "ktstr/guest/sched_ext_state.hpp"

using namespace ktstr::guest;
using ktstr::test::GuestSandbox;

TEST_CASE("sched_ext's state and ops come from sysfs, trimmed", "[sched_ext_state]") {
    GuestSandbox sb;
    auto st = read_sched_ext_state();  // no sched_ext directory: a kernel without it
    CHECK(st.state.empty());
    CHECK(st.ops.empty());
    CHECK_FALSE(st.attached());

    std::filesystem::create_directories(sb.dir() / "sched_ext" / "root");
    ktstr::test::write_text(sb.dir() / "sched_ext" / "state", "enabled\n");
    ktstr::test::write_text(sb.dir() / "sched_ext" / "root" / "ops", "");
    st = read_sched_ext_state();
    CHECK(st.state == "enabled");
    CHECK_FALSE(st.attached());  // enabled without a name: not yet ours

    ktstr::test::write_text(sb.dir() / "sched_ext" / "root" / "ops", "  simple \n");
    st = read_sched_ext_state();
    CHECK(st.ops == "simple");
    CHECK(st.attached());

    ktstr::test::write_text(sb.dir() / "sched_ext" / "state", "disabling\n");
    CHECK_FALSE(read_sched_ext_state().attached());

    // Bounded: a huge file is read up to its first 256 bytes.
    ktstr::test::write_text(sb.dir() / "sched_ext" / "state", std::string(1 << 20, 'e'));
    CHECK(read_sched_ext_state().state.size() == 256);
}
