#include <catch2/catch.hpp>

#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/common/scx_exit_kind.hpp"

using namespace ktstr;
using Kind = SchedulerFate::Kind;

TEST_CASE("fate records are formatted key by key, text after ' | '", "[fate]") {
    SchedulerFate a;
    a.fate = Kind::attached;
    a.program = "scx_simple";
    a.ops = "simple";
    a.attached_ms = 1234;
    CHECK(format_fate(a) == "fate=attached program=scx_simple ops=simple attached_ms=1234");

    SchedulerFate e;
    e.fate = Kind::ejected;
    e.kind = 1026;
    e.status = 0;
    e.program = "scx_qmap";
    e.ops = "qmap";
    e.state = "disabled";
    e.after_ms = 5210;
    e.text = "runnable task stall (init[59] failed to run for 6.741s)";
    CHECK(format_fate(e) == "fate=ejected kind=1026 status=0 program=scx_qmap ops=qmap state=disabled after_ms=5210"
                            " | runnable task stall (init[59] failed to run for 6.741s)");

    SchedulerFate n;
    n.fate = Kind::never_attached;
    n.timeout_ms = 12000;
    n.state = "enabling";
    CHECK(format_fate(n) == "fate=never_attached state=enabling timeout_ms=12000");
}

TEST_CASE("fate records round-trip", "[fate]") {
    SchedulerFate f;
    f.fate = Kind::exited;
    f.kind = -5;
    f.status = 255;
    f.signal = 11;
    f.attached_ms = 0;
    f.after_ms = 18446744073709551615ull;
    f.timeout_ms = 7;
    f.state = "disabled";
    f.ops = "x";
    f.program = "p";
    f.text = "line one\nline two | with a bar\tand tab";
    for (auto k : {Kind::attached, Kind::ejected, Kind::exited, Kind::never_attached}) {
        f.fate = k;
        auto back = parse_fate(format_fate(f));
        REQUIRE(back);
        CHECK(*back == f);
    }
    SchedulerFate minimal;
    minimal.fate = Kind::never_attached;
    CHECK(format_fate(minimal) == "fate=never_attached");
    CHECK(parse_fate("fate=never_attached") == minimal);
}

TEST_CASE("values are made safe and bounded, text keeps the record under the limit", "[fate]") {
    SchedulerFate f;
    f.fate = Kind::never_attached;
    f.program = "my prog\n";
    f.ops = std::string(1000, 'o');
    f.state = "bad\xFF";
    f.text = std::string(10000, 'x') + "\xE2\x82\xAC";
    const auto s = format_fate(f);
    CHECK(s.size() <= max_fate_record);
    auto back = parse_fate(s);
    REQUIRE(back);
    CHECK(back->program == "my_prog_");
    CHECK(back->ops == std::string(max_fate_value, 'o'));
    CHECK(back->state == "bad\xEF\xBF\xBD");
    CHECK(back->text.size() > 3000);
    CHECK(back->text.find_first_not_of('x') == std::string::npos);

    // A cut never splits a character.
    f.ops.clear();
    f.state.clear();
    f.program.clear();
    f.text = std::string(4096, '\xE2');  // invalid: each byte becomes three
    const auto t = format_fate(f);
    CHECK(t.size() <= max_fate_record);
    CHECK((t.size() - std::string("fate=never_attached | ").size()) % 3 == 0);
}

TEST_CASE("parse_fate rejects what is not a fate record", "[fate]") {
    CHECK_FALSE(parse_fate(""));
    CHECK_FALSE(parse_fate("/bin/sh"));
    CHECK_FALSE(parse_fate("scx_simple fate=attached"));
    CHECK_FALSE(parse_fate(" fate=attached"));
    CHECK_FALSE(parse_fate("fate=dead"));
    CHECK_FALSE(parse_fate("fate="));
    CHECK_FALSE(parse_fate("fate=attached  ops=x"));
    CHECK_FALSE(parse_fate("fate=attached "));
    CHECK_FALSE(parse_fate("fate=attached ops"));
    CHECK_FALSE(parse_fate("fate=attached =x"));
    CHECK_FALSE(parse_fate("fate=attached fate=exited"));
    CHECK_FALSE(parse_fate("fate=exited status=1 status=2"));
    CHECK_FALSE(parse_fate("fate=exited ops=a ops=b"));
    CHECK_FALSE(parse_fate("fate=exited status=abc"));
    CHECK_FALSE(parse_fate("fate=exited status="));
    CHECK_FALSE(parse_fate("fate=exited status=+1"));
    CHECK_FALSE(parse_fate("fate=exited status=1x"));
    CHECK_FALSE(parse_fate("fate=exited status=99999999999"));
    CHECK_FALSE(parse_fate("fate=exited after_ms=-1"));
    CHECK_FALSE(parse_fate("fate=exited after_ms=18446744073709551616"));
    CHECK_FALSE(parse_fate("fate=exited |"));
    CHECK_FALSE(parse_fate("fate=exited " + std::string(max_fate_record, 'x')));
    CHECK(parse_fate("fate=exited status=-3")->status == -3);
}

TEST_CASE("parse_fate tolerates unknown keys and takes the text verbatim", "[fate]") {
    auto f = parse_fate("fate=ejected kind=1025 cpu=3 newer=a=b ops=qmap | scx_bpf_error (boom) | more");
    REQUIRE(f);
    CHECK(f->fate == Kind::ejected);
    CHECK(f->kind == 1025);
    CHECK(f->ops == "qmap");
    CHECK(f->text == "scx_bpf_error (boom) | more");
    auto g = parse_fate("fate=exited | ");
    REQUIRE(g);
    CHECK(g->text.empty());
    CHECK(parse_fate(std::string("fate=exited | ") + std::string(max_fate_record - 14, 'y')));
}

TEST_CASE("SchedExit codes and lifecycle phases follow the fate", "[fate]") {
    SchedulerFate f;
    f.fate = Kind::ejected;
    f.kind = 1026;
    f.status = 0;
    CHECK(sched_exit_code(f) == 1026);
    f.kind.reset();
    CHECK(sched_exit_code(f) == scx::exit_error);
    f.fate = Kind::exited;
    f.status = 3;
    CHECK(sched_exit_code(f) == 3);
    f.status.reset();
    f.signal = 9;
    CHECK(sched_exit_code(f) == 137);
    f.fate = Kind::never_attached;
    f.signal.reset();
    f.timeout_ms = 100;
    CHECK(sched_exit_code(f) == -1);
    f.status = 1;
    CHECK(sched_exit_code(f) == 1);
    CHECK(lifecycle_phase_of(Kind::attached) == LifecyclePhase::PayloadStarting);
    CHECK(lifecycle_phase_of(Kind::ejected) == LifecyclePhase::SchedulerDied);
    CHECK(lifecycle_phase_of(Kind::exited) == LifecyclePhase::SchedulerDied);
    CHECK(lifecycle_phase_of(Kind::never_attached) == LifecyclePhase::SchedulerNotAttached);
}
