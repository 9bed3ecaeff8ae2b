#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "guest_sandbox.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/guest/scheduler_process.hpp"

#include <thread>

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::GuestSandbox;

namespace {

SchedulerProcess::Options sh(const std::string& script) {
    SchedulerProcess::Options o;
    o.argv = {"/bin/sh", "-c", script};
    o.env = {"PATH=/bin:/usr/bin"};
    o.send_frames = false;
    return o;
}

}  // namespace

TEST_CASE("a scheduler process: one pipe for stdout and stderr, its status, its own session", "[scheduler_process]") {
    GuestSandbox sb;
    sb.attach_port();
    auto o = sh("echo out; echo err >&2; read -r _ _ _ _ _ sid _ < /proc/$$/stat; test \"$sid\" = $$ || echo 'not a session leader'; "
                "read x || echo 'stdin at end'; exit 4");
    o.send_frames = true;
    SchedulerProcess p(o);
    CHECK(p.pid() > 0);
    CHECK(p.pidfd() >= 0);
    auto e = p.wait_exit(60s);
    REQUIRE(e);
    CHECK(e->status == 4);
    CHECK_FALSE(e->signal);
    p.finish_output(10s);
    CHECK(p.output_tail() == "out\nerr\nstdin at end\n");
    auto frames = ktstr::test::read_frames(sb.host(), 100, 300ms);
    std::string sched_log;
    for (const auto& f : frames) {
        CHECK(f.msg_type() == to_u32(MsgType::SchedLog));
        sched_log += ktstr::test::text(f);
    }
    CHECK(sched_log == "out\nerr\nstdin at end\n");
    CHECK(p.poll_exit() == e);  // known from now on
    CHECK_FALSE(p.send_signal(SIGTERM));
}

TEST_CASE("its status arrives even when another reaper took the supervisor", "[scheduler_process]") {
    GuestSandbox sb;
    REQUIRE(::mkfifo(sb.path("go").c_str(), 0600) == 0);
    SchedulerProcess p(sh("read x < " + sb.path("go") + "; exit 5"));
    // As a PID 1 does: reap whatever child ends. The only child of this
    // process is the supervisor, which ends right after the program.
    pid_t reaped = 0;
    std::thread reaper([&] {
        int st = 0;
        reaped = ::waitpid(-1, &st, 0);
    });
    {
        UniqueFd go(::open(sb.path("go").c_str(), O_WRONLY | O_CLOEXEC));  // blocks until the script opens it
        REQUIRE(::write(go.get(), "\n", 1) == 1);
    }
    reaper.join();
    CHECK(reaped > 0);
    CHECK(reaped != p.pid());  // the program is the supervisor's child, not ours
    auto e = p.wait_exit(60s);
    REQUIRE(e);
    CHECK(e->status == 5);
}

TEST_CASE("stop: SIGINT first, SIGKILL after the grace", "[scheduler_process]") {
    GuestSandbox sb;
    SECTION("it stops on SIGINT") {
        ktstr::test::write_text(sb.path("ready"), "");
        SchedulerProcess p(sh("trap 'exit 9' INT; echo ready > " + sb.path("ready") + "; while :; do sleep 0.01; done"));
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (ktstr::test::read_text(sb.path("ready")).empty() && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        auto e = p.stop(60s);
        REQUIRE(e);
        CHECK(e->status == 9);
    }
    SECTION("it ignores SIGINT") {
        ktstr::test::write_text(sb.path("ready"), "");
        SchedulerProcess p(sh("trap '' INT; echo ready > " + sb.path("ready") + "; while :; do sleep 0.01; done"));
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (ktstr::test::read_text(sb.path("ready")).empty() && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        auto e = p.stop(50ms);
        REQUIRE(e);
        CHECK(e->signal == SIGKILL);
    }
}

TEST_CASE("an empty argv is refused", "[scheduler_process]") {
    SchedulerProcess::Options o;
    CHECK_THROWS_AS(SchedulerProcess(o), std::invalid_argument);
}
