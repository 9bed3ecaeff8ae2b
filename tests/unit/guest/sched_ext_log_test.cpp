#include <catch2/catch.hpp>

#include "ktstr/common/scx_exit_kind.hpp"
#include "ktstr/guest/sched_ext_log.hpp"

using namespace ktstr;
using namespace ktstr::guest;

namespace {

KmsgRecord rec(std::string text) {
    KmsgRecord r;
    r.text = std::move(text);
    return r;
}

}  // namespace

TEST_CASE("the kernel's disable line gives the scheduler, the reason and its kind", "[sched_ext_log]") {
    for (const auto& k : scx::exit_kinds()) {
        if (k.reason.empty())
            continue;
        INFO(k.name);
        auto d = parse_disable_line("sched_ext: BPF scheduler \"qmap\" disabled (" + std::string(k.reason) + ")");
        REQUIRE(d);
        CHECK(d->ops == "qmap");
        CHECK(d->reason == k.reason);
        CHECK(d->kind == k.kind);
        CHECK(d->known_reason);
        CHECK(d->message.empty());
        CHECK(d->describe() == k.reason);
    }
}

TEST_CASE("an unknown reason is a runtime error with its text kept", "[sched_ext_log]") {
    auto d = parse_disable_line("sched_ext: BPF scheduler \"a b\" disabled (cosmic ray (probably))\n");
    REQUIRE(d);
    CHECK(d->ops == "a b");
    CHECK(d->reason == "cosmic ray (probably)");
    CHECK(d->kind == scx::exit_error);
    CHECK_FALSE(d->known_reason);
    auto empty = parse_disable_line("sched_ext: BPF scheduler \"x\" disabled ()");
    REQUIRE(empty);
    CHECK(empty->reason.empty());
    CHECK(empty->kind == scx::exit_error);
}

TEST_CASE("other lines are no disable line", "[sched_ext_log]") {
    CHECK_FALSE(parse_disable_line(""));
    CHECK_FALSE(parse_disable_line("sched_ext: BPF scheduler \"simple\" enabled"));
    CHECK_FALSE(parse_disable_line("sched_ext: BPF scheduler \"simple\" disabled (runtime error"));
    CHECK_FALSE(parse_disable_line("sched_ext: BPF scheduler simple disabled (runtime error)"));
    CHECK_FALSE(parse_disable_line("xsched_ext: BPF scheduler \"simple\" disabled (runtime error)"));
    CHECK_FALSE(parse_disable_line("sched_ext: simple: runnable task stall"));
    CHECK(parse_disable_message("sched_ext: qmap: init[59] failed to run for 6.741s", "qmap") ==
          std::string_view("init[59] failed to run for 6.741s"));
    CHECK_FALSE(parse_disable_message("sched_ext: qmapx: boom", "qmap"));
    CHECK_FALSE(parse_disable_message("sched_ext: qmap boom", "qmap"));
    CHECK_FALSE(parse_disable_message("other: qmap: boom", "qmap"));
}

TEST_CASE("the scanner takes the first disable and the message line after it", "[sched_ext_log]") {
    SchedExtLogScanner s;
    s.feed(rec("sched_ext: qmap: an earlier message is not this disable's"));
    s.feed(rec("random line"));
    CHECK_FALSE(s.disable());
    s.feed(rec("sched_ext: BPF scheduler \"qmap\" disabled (runnable task stall)"));
    REQUIRE(s.disable());
    CHECK(s.disable()->kind == scx::exit_error_stall);
    s.feed(rec("some other CPU's line"));
    s.feed(rec("sched_ext: other: not ours"));
    s.feed(rec("sched_ext: qmap: init[59] failed to run for 6.741s"));
    s.feed(rec("sched_ext: qmap: a later line is not the message"));
    s.feed(rec("sched_ext: BPF scheduler \"qmap\" disabled (runtime error)"));
    REQUIRE(s.disable());
    CHECK(s.disable()->message == "init[59] failed to run for 6.741s");
    CHECK(s.disable()->describe() == "runnable task stall (init[59] failed to run for 6.741s)");
    CHECK(s.disable()->kind == scx::exit_error_stall);
    s.reset();
    CHECK_FALSE(s.disable());
}

TEST_CASE("a disable without a message stays without one", "[sched_ext_log]") {
    SchedExtLogScanner s;
    s.feed(rec("sched_ext: BPF scheduler \"simple\" disabled (unregistered from user space)"));
    s.feed(rec("sched_ext: BPF scheduler \"simple\" disabled (runtime error)"));
    s.feed(rec("sched_ext: simple: late"));
    REQUIRE(s.disable());
    CHECK(s.disable()->kind == scx::exit_unreg);
    CHECK(s.disable()->message.empty());
}
