// The scheduler lifecycle against a fake sched_ext: sysfs files and a
// kernel log (a regular file) in the sandbox, and "schedulers" that are
// shell scripts writing them. Orderings are explicit: a script that must
// act after the attach waits on a FIFO the test writes to, and every
// grace a test does not mean to exhaust is far longer than the test.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include "guest_sandbox.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/common/scx_exit_kind.hpp"
#include "ktstr/guest/scheduler.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::concat;
using ktstr::test::GuestSandbox;
using ktstr::test::tags;
using Kind = SchedulerFate::Kind;

namespace {

// The fake system: sched_ext's sysfs files, an empty kernel log, a
// sysrq-trigger file and the FIFO scripts wait on.
struct FakeSystem {
    explicit FakeSystem(GuestSandbox& s) : sb(s) {
        std::filesystem::create_directories(sb.dir() / "sched_ext" / "root");
        set_state("disabled", "");
        ktstr::test::write_text(sb.path("kmsg"), "");
        ktstr::test::write_text(sb.path("sysrq-trigger"), "");
        REQUIRE(::mkfifo(sb.path("go").c_str(), 0600) == 0);
    }

    void set_state(const std::string& state, const std::string& ops) {
        ktstr::test::write_text(sb.dir() / "sched_ext" / "state", state + "\n");
        ktstr::test::write_text(sb.dir() / "sched_ext" / "root" / "ops", ops.empty() ? "" : ops + "\n");
    }

    // A script named `name` (the fate's program) running `body` with SCX,
    // KMSG and GO in its environment.
    SchedulerOptions scheduler(const std::string& name, const std::string& body) {
        const auto path = sb.path(name);
        ktstr::test::write_text(path, "#!/bin/sh\n" + body + "\n");
        ::chmod(path.c_str(), 0755);
        SchedulerOptions o;
        o.argv = {path};
        o.env = {"PATH=/bin:/usr/bin", "SCX=" + sb.path("sched_ext"), "KMSG=" + sb.path("kmsg"), "GO=" + sb.path("go")};
        o.attach_timeout = 60s;  // only a test that means to time out shortens it
        o.poll_interval = 5ms;
        o.kmsg_grace = 60s;
        o.exit_grace = 60s;
        o.output_grace = 10s;
        o.dump.quiet = 20ms;
        return o;
    }

    // Lets a script waiting in `read go < "$GO"` go on.
    void release() {
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        UniqueFd fd;
        while (!fd && std::chrono::steady_clock::now() < give_up) {
            fd.reset(::open(sb.path("go").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
            if (!fd)
                std::this_thread::sleep_for(1ms);  // ENXIO: the script has not opened it yet
        }
        REQUIRE(fd);
        REQUIRE(::write(fd.get(), "go\n", 3) == 3);
    }

    GuestSandbox& sb;
};

// Records as the kernel writes them to /dev/kmsg, appended by a script.
std::string log_lines(std::initializer_list<std::string> texts) {
    std::string cmd;
    int seq = 100;
    for (const auto& t : texts)
        cmd += "printf '%s\\n' '3," + std::to_string(seq++) + ",6000000,-;" + t + "' >> \"$KMSG\"\n";
    return cmd;
}

const std::string stall_ejection =
    log_lines({R"(sched_ext: BPF scheduler "fake" disabled (runnable task stall))",
               "sched_ext: fake: init[59] failed to run for 6.741s", "  dump_stack+0x10/0x20"});

// Waits for the watcher's verdict.
struct Verdict {
    std::mutex m;
    std::condition_variable cv;
    std::optional<SchedulerFate> fate;
    int calls = 0;

    std::function<void(const SchedulerFate&)> callback() {
        return [this](const SchedulerFate& f) {
            std::lock_guard lk(m);
            fate = f;
            ++calls;
            cv.notify_all();
        };
    }
    SchedulerFate wait() {
        std::unique_lock lk(m);
        REQUIRE(cv.wait_for(lk, 60s, [&] { return fate.has_value(); }));
        return *fate;
    }
};

SchedulerFate attach(Scheduler& s) {
    auto f = s.wait_for_attach();
    REQUIRE(f.fate == Kind::attached);
    return f;
}

// Attaches `s`, watches it into `v`, lets its script (waiting on GO) go
// on, and waits for the watcher's verdict.
SchedulerFate release_and_wait(Scheduler& s, FakeSystem& fake, Verdict& v) {
    attach(s);
    s.watch(v.callback());
    fake.release();
    return v.wait();
}

// A report's closing frames, read from the host's end: a Lifecycle frame
// in `phase` whose reason parses as a fate, then SchedExit carrying
// `exit_kind`. Returns that parsed fate.
SchedulerFate reported_fate(const std::vector<Frame>& frames, LifecyclePhase phase, std::int32_t exit_kind) {
    auto t = tags(frames);
    REQUIRE(t.size() >= 2);
    CHECK(t[t.size() - 1] == "SCDX");
    CHECK(t[t.size() - 2] == "LIFE");
    CHECK(decode_i32(frames.back().payload) == exit_kind);
    auto life = decode_lifecycle(frames[t.size() - 2].payload);
    REQUIRE(life);
    CHECK(life->phase == phase);
    auto parsed = parse_fate(life->reason);
    REQUIRE(parsed);
    return *parsed;
}

}  // namespace

TEST_CASE("an attach is seen in sysfs: enabled with an ops name", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    fake.set_state("enabled", "fake");
    Scheduler s(fake.scheduler("scx_fake", "exec sleep 1000"));
    auto f = attach(s);
    CHECK(f.program == "scx_fake");
    CHECK(f.ops == "fake");
    REQUIRE(f.attached_ms);
    CHECK(*f.attached_ms < 60000);
    CHECK(format_fate(f) == "fate=attached program=scx_fake ops=fake attached_ms=" + std::to_string(*f.attached_ms));
    auto e = s.stop();  // SIGINT: the shell, or the sleep it became, dies of it
    REQUIRE(e);
    CHECK(e->signal == SIGINT);
}

TEST_CASE("a script that writes the sysfs files itself attaches", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    Scheduler s(fake.scheduler("scx_self", R"(printf enabling > "$SCX/state"
printf selfie > "$SCX/root/ops"
printf enabled > "$SCX/state"
exec sleep 1000)"));
    auto f = attach(s);
    CHECK(f.ops == "selfie");
}

TEST_CASE("exiting before the attach: never attached, with its status and output", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    Scheduler s(fake.scheduler("scx_broken", "echo 'libbpf: failed to load object'\necho 'second line' >&2\nexit 3"));
    auto f = s.wait_for_attach();
    CHECK(f.fate == Kind::never_attached);
    CHECK(f.status == 3);
    CHECK_FALSE(f.signal);
    CHECK_FALSE(f.timeout_ms);
    CHECK(f.state == "disabled");
    CHECK(f.text == "libbpf: failed to load object\nsecond line");
    CHECK(sched_exit_code(f) == 3);
}

TEST_CASE("never attached within the timeout: the state seen, timeout_ms", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    fake.set_state("enabling", "");
    auto o = fake.scheduler("scx_slow", "echo verifying\nexec sleep 1000");
    o.attach_timeout = 100ms;
    Scheduler s(o);
    auto f = s.wait_for_attach();
    CHECK(f.fate == Kind::never_attached);
    CHECK(f.timeout_ms == 100);
    CHECK(f.state == "enabling");
    CHECK_FALSE(f.status);
    CHECK(sched_exit_code(f) == -1);
}

TEST_CASE("a program that cannot be executed never attaches, exit 127 and why", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    SchedulerOptions o = fake.scheduler("unused", "exit 0");
    o.argv = {sb.path("scx_missing")};
    Scheduler s(o);
    auto f = s.wait_for_attach();
    CHECK(f.fate == Kind::never_attached);
    CHECK(f.status == 127);
    CHECK(f.program == "scx_missing");
    CHECK_THAT(f.text, Catch::Contains("cannot execute " + sb.path("scx_missing")) && Catch::Contains("ENOENT"));
}

TEST_CASE("a disable logged while enabling shows as the kind of a failed attach", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    Scheduler s(fake.scheduler(
        "scx_initfail", log_lines({R"(sched_ext: BPF scheduler "fake" disabled (runtime error))",
                                   "sched_ext: fake: ops.init() failed (-12)"}) + "echo init failed\nexit 1"));
    auto f = s.wait_for_attach();
    CHECK(f.fate == Kind::never_attached);
    CHECK(f.kind == scx::exit_error);
    CHECK(f.status == 1);
}

TEST_CASE("an ejection, then the program exits 0: ejected, with kind, reason and message", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    fake.set_state("enabled", "fake");
    Scheduler s(fake.scheduler("scx_qmap", "read go < \"$GO\"\n" + stall_ejection +
                                               "printf disabled > \"$SCX/state\"\n"
                                               "echo 'EXIT: runnable task stall'\nexit 0"));
    Verdict v;
    auto f = release_and_wait(s, fake, v);
    CHECK(f.fate == Kind::ejected);
    CHECK(f.kind == scx::exit_error_stall);
    CHECK(f.status == 0);  // exit_grace is a minute: the exit came
    CHECK(f.text == "runnable task stall (init[59] failed to run for 6.741s)");
    CHECK(f.ops == "fake");
    CHECK(f.program == "scx_qmap");
    CHECK(f.after_ms.has_value());
    CHECK(sched_exit_code(f) == 1026);
    auto back = s.stop_watching();
    REQUIRE(back);
    CHECK(*back == f);
    CHECK(v.calls == 1);
}

TEST_CASE("the process exits without an ejection line: exited, status or signal", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    fake.set_state("enabled", "fake");
    SECTION("status") {
        Scheduler s(fake.scheduler("scx_quits", "read go < \"$GO\"\nexit 7"));
        Verdict v;
        auto f = release_and_wait(s, fake, v);
        CHECK(f.fate == Kind::exited);
        CHECK(f.status == 7);
        CHECK_FALSE(f.kind);
        CHECK(f.state == "enabled");
        CHECK(sched_exit_code(f) == 7);
    }
    SECTION("signal") {
        Scheduler s(fake.scheduler("scx_crashes", "read go < \"$GO\"\nkill -SEGV $$"));
        Verdict v;
        auto f = release_and_wait(s, fake, v);
        CHECK(f.fate == Kind::exited);
        CHECK(f.signal == SIGSEGV);
        CHECK(sched_exit_code(f) == 128 + SIGSEGV);
    }
    SECTION("the kernel's UNREG line for its own unregister makes no ejection") {
        Scheduler s(fake.scheduler("scx_unreg",
                                   "read go < \"$GO\"\n" +
                                       log_lines({R"(sched_ext: BPF scheduler "fake" disabled (unregistered from user space))"}) +
                                       "printf disabled > \"$SCX/state\"\nexit 0"));
        Verdict v;
        auto f = release_and_wait(s, fake, v);
        CHECK(f.fate == Kind::exited);
        CHECK(f.status == 0);
    }
}

TEST_CASE("an ejection while the program runs on: ejected once exit_grace passed", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    fake.set_state("enabled", "fake");
    auto o = fake.scheduler("scx_lingers", "read go < \"$GO\"\n" +
                                               log_lines({R"(sched_ext: BPF scheduler "fake" disabled (scx_bpf_error))",
                                                          "sched_ext: fake: boom at cpu 3"}) +
                                               "exec sleep 1000");
    o.exit_grace = 50ms;
    Scheduler s(o);
    Verdict v;
    auto f = release_and_wait(s, fake, v);
    CHECK(f.fate == Kind::ejected);
    CHECK(f.kind == scx::exit_error_bpf);
    CHECK_FALSE(f.status);
    CHECK_FALSE(f.signal);
    CHECK(f.text == "scx_bpf_error (boom at cpu 3)");
}

TEST_CASE("an unknown reason is an ejection of kind ERROR with the reason kept", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    fake.set_state("enabled", "fake");
    Scheduler s(fake.scheduler("scx_odd", "read go < \"$GO\"\n" +
                                              log_lines({R"(sched_ext: BPF scheduler "fake" disabled (a reason from 2030))"}) +
                                              "exit 0"));
    Verdict v;
    auto f = release_and_wait(s, fake, v);
    CHECK(f.fate == Kind::ejected);
    CHECK(f.kind == scx::exit_error);
    CHECK(f.text == "a reason from 2030");
}

TEST_CASE("the state leaving enabled with no kernel line: ejected after kmsg_grace", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    fake.set_state("enabled", "fake");
    auto o = fake.scheduler("scx_silent", "read go < \"$GO\"\nprintf disabling > \"$SCX/state\"\nexec sleep 1000");
    o.kmsg_grace = 50ms;
    Scheduler s(o);
    Verdict v;
    auto f = release_and_wait(s, fake, v);
    CHECK(f.fate == Kind::ejected);
    CHECK(f.kind == scx::exit_error);
    CHECK(f.state == "disabling");
    CHECK_THAT(f.text, Catch::Contains("no disable line"));
}

TEST_CASE("stop_watching while attached reports nothing and stop() detaches it", "[scheduler]") {
    GuestSandbox sb;
    FakeSystem fake(sb);
    // Attached only once its SIGINT handler is in place.
    Scheduler s(fake.scheduler("scx_fine", R"(trap 'echo detached; exit 0' INT
echo ready
printf fake > "$SCX/root/ops"
printf enabled > "$SCX/state"
while :; do sleep 0.01; done)"));
    attach(s);
    Verdict v;
    s.watch(v.callback());
    CHECK_FALSE(s.stop_watching());
    CHECK(v.calls == 0);
    auto e = s.stop();
    REQUIRE(e);
    CHECK(e->status == 0);  // its SIGINT handler ran
    CHECK(s.output_tail() == "ready\ndetached\n");
}

TEST_CASE("a death is reported: Dmesg, SchedLog, Lifecycle, then SchedExit", "[scheduler]") {
    GuestSandbox sb;
    sb.attach_port();
    FakeSystem fake(sb);
    fake.set_state("enabled", "fake");
    Scheduler s(fake.scheduler("scx_qmap", "echo starting\nread go < \"$GO\"\n" + stall_ejection +
                                               "printf disabled > \"$SCX/state\"\n"
                                               "echo 'EXIT: runnable task stall'\nexit 0"));
    attach(s);
    Verdict v;
    std::optional<SchedulerFate> sent;
    s.watch([&](const SchedulerFate& f) {
        sent = s.report(f);
        v.callback()(f);
    });
    fake.release();
    auto f = v.wait();
    REQUIRE(sent);
    CHECK(*sent == f);
    CHECK(ktstr::test::read_text(sb.path("sysrq-trigger")) == "D");

    auto frames = ktstr::test::read_frames(sb.host(), 1000, 500ms);
    auto t = tags(frames);
    REQUIRE(t.size() >= 4);
    CHECK(reported_fate(frames, LifecyclePhase::SchedulerDied, scx::exit_error_stall) == f);
    // The kernel log since the start, ejection and backtrace included.
    const auto dmesg = concat(frames, MsgType::Dmesg);
    CHECK_THAT(dmesg, Catch::Contains("[    6.000000] sched_ext: BPF scheduler \"fake\" disabled (runnable task stall)\n"));
    CHECK_THAT(dmesg, Catch::Contains("dump_stack+0x10/0x20"));
    CHECK(concat(frames, MsgType::SchedLog) == "starting\nEXIT: runnable task stall\n");
    // Every Dmesg frame comes before the Lifecycle frame.
    const auto last_dmesg = std::find(t.rbegin(), t.rend(), "DMSG");
    CHECK(std::distance(last_dmesg, t.rend()) < static_cast<std::ptrdiff_t>(t.size() - 1));
}

TEST_CASE("a failed attach is reported with the last lines of the output", "[scheduler]") {
    GuestSandbox sb;
    sb.attach_port();
    FakeSystem fake(sb);
    auto o = fake.scheduler("scx_stuck", R"(trap 'echo "interrupted while enabling"; exit 0' INT
echo loading
printf enabling > "$SCX/state"
while :; do sleep 0.01; done)");
    o.attach_timeout = 100ms;
    Scheduler s(o);
    // Its SIGINT handler is in place once it wrote the state.
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (ktstr::test::read_text(sb.dir() / "sched_ext" / "state") != "enabling" &&
           std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(1ms);
    auto f = s.wait_for_attach();
    REQUIRE(f.fate == Kind::never_attached);
    auto sent = s.report(f);
    // Stopped after the dump: the rest of its output is in the text.
    CHECK(sent.text == "loading\ninterrupted while enabling");
    auto frames = ktstr::test::read_frames(sb.host(), 1000, 500ms);
    REQUIRE(tags(frames).size() >= 3);
    auto parsed = reported_fate(frames, LifecyclePhase::SchedulerNotAttached, -1);
    CHECK(parsed.timeout_ms == 100);
    CHECK(parsed.state == "enabling");
    CHECK(parsed.text == "loading\ninterrupted while enabling");
    CHECK(concat(frames, MsgType::SchedLog) == "loading\ninterrupted while enabling\n");
}

TEST_CASE("the default attach timeout grows with the CPUs", "[scheduler]") {
    CHECK(default_attach_timeout(1) == 12000ms);
    CHECK(default_attach_timeout(8) == 26000ms);
}
