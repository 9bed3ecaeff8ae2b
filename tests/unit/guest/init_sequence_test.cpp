#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "command_runner.hpp"
#include "exit_codes.hpp"
#include "guest_sandbox.hpp"
#include "init_sequence.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/common/payloads.hpp"
#include "ktstr/common/scheduler_fate.hpp"
#include "ktstr/common/scx_exit_kind.hpp"
#include "ktstr/guest/bulk_port.hpp"
#include "ktstr/guest/phys_base.hpp"

using namespace ktstr;
using namespace ktstr::init;
using namespace std::chrono_literals;
using namespace std::string_literals;
using ktstr::test::concat;
using ktstr::test::GuestSandbox;
using ktstr::test::tags;

namespace {

// The last line of a file (without its newline).
std::string last_line(const std::string& s) {
    auto end = s.size();
    if (end > 0 && s[end - 1] == '\n')
        --end;
    auto start = s.rfind('\n', end == 0 ? 0 : end - 1);
    return s.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1));
}

// A run of run_init against the sandbox: the kernel command line holds
// KTSTR_INIT_* options pointing into it, COM2 and the console are files.
struct InitRun {
    explicit InitRun(GuestSandbox& s) : sb(s) {}
    GuestSandbox& sb;
    int code = -1;
    std::string console;
    std::string com2;

    void go() {
        ktstr::test::write_text(sb.path("console"), "");
        ktstr::test::write_text(sb.path("com2"), "");
        UniqueFd console_fd(::open(sb.path("console").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
        REQUIRE(console_fd);
        InitSetup setup;
        setup.pid1 = false;
        setup.console_fd = console_fd.get();
        setup.output_grace = 5s;
        code = run_init(setup);
        console = ktstr::test::read_text(sb.path("console"));
        com2 = ktstr::test::read_text(sb.path("com2"));
    }
};

std::string init_cmdline(GuestSandbox& sb, const std::string& extra) {
    return "console=ttyS0 KTSTR_INIT_COMMAND=" + sb.path("command") + " KTSTR_INIT_ENV=" + sb.path("environment") +
           " KTSTR_INIT_MODULES=" + sb.path("modules") + " KTSTR_INIT_COM2=" + sb.path("com2") +
           " KTSTR_INIT_SCHEDULER=" + sb.path("scheduler") +
           " KTSTR_INIT_PORT_WAIT_MS=200 KTSTR_INIT_SYSRDY_MS=200 " + extra;
}

}  // namespace

TEST_CASE("run_command forwards stdout and stderr as frames and echoes them", "[init][run]") {
    GuestSandbox sb;
    sb.attach_port();
    UniqueFd echo(::open(sb.path("echo").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    RecordedCommand cmd{{"sh", "-c", "printf out; printf err >&2; exit 3"}, {}};
    RunOptions o;
    o.echo_fd = echo.get();
    o.send_frames = true;
    o.bulk_fd = guest::BulkPort::instance().fd_for_children();
    auto r = run_command(cmd, o);
    CHECK(r.started);
    CHECK(r.exit_code == 3);
    CHECK(r.stdout_bytes == 3);
    CHECK(r.stderr_bytes == 3);
    auto frames = ktstr::test::read_frames(sb.host(), 2, 5s);
    CHECK(concat(frames, MsgType::Stdout) == "out");
    CHECK(concat(frames, MsgType::Stderr) == "err");
    auto echoed = ktstr::test::read_text(sb.path("echo"));
    CHECK(echoed.size() == 6);
    CHECK(echoed.find("out") != std::string::npos);
    CHECK(echoed.find("err") != std::string::npos);
}

TEST_CASE("the command inherits the bulk port and a complete PATH", "[init][run]") {
    GuestSandbox sb;
    sb.attach_port();
    const int fd = sb.guest_end();  // close-on-exec in this process, like init's own open
    UniqueFd echo(::open(sb.path("echo").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    RunOptions o;
    o.echo_fd = echo.get();
    o.bulk_fd = fd;
    // The child proves the descriptor is open in it by writing through it.
    RecordedCommand cmd{{"sh", "-c", "echo \"$KTSTR_BULK_FD $PATH\"; printf raw >&$KTSTR_BULK_FD"}, {"PATH=/opt"}};
    auto r = run_command(cmd, o);
    CHECK(r.exit_code == 0);
    CHECK(ktstr::test::read_text(sb.path("echo")) == std::to_string(fd) + " /opt:/bin:/sbin:/usr/bin:/usr/sbin\n");
    std::array<char, 4> raw{};
    REQUIRE(::read(sb.host(), raw.data(), raw.size()) == 3);
    CHECK(std::string(raw.data(), 3) == "raw");
}

TEST_CASE("run_command: not found, not executable, killed", "[init][run]") {
    GuestSandbox sb;
    auto nf = run_command({{"ktstr-no-such-command"}, {}}, {});
    CHECK_FALSE(nf.started);
    CHECK(nf.exit_code == exit_code::not_found);
    CHECK_THAT(nf.failure, Catch::Contains("command not found: ktstr-no-such-command"));

    ktstr::test::write_text(sb.path("plain"), "x");
    auto ne = run_command({{sb.path("plain")}, {}}, {});
    CHECK(ne.exit_code == exit_code::not_executable);

    // Executable bit but not a program: execve fails in the child.
    ktstr::test::write_text(sb.path("bad"), std::string("\x7f" "ELF", 4));
    ::chmod(sb.path("bad").c_str(), 0755);
    auto bad = run_command({{sb.path("bad")}, {}}, {});
    CHECK_FALSE(bad.started);
    CHECK(bad.exit_code == exit_code::not_executable);
    CHECK_THAT(bad.failure, Catch::Contains("exec "));

    auto killed = run_command({{"sh", "-c", "kill -TERM $$"}, {}}, {});
    CHECK(killed.started);
    CHECK(killed.exit_code == exit_code::signal_base + SIGTERM);
}

TEST_CASE("the init sequence on the host: frames, exit code and the final COM2 line", "[init][sequence]") {
    GuestSandbox sb;
    sb.set_cmdline(init_cmdline(sb, "KTSTR_GUEST=1"));
    sb.attach_port();
    ktstr::test::write_text(sb.path("iomem"), "  1e000000-1ee02806 : Kernel code\n  40000000-41ffffff : System RAM\n");
    ktstr::test::write_text(sb.path("command"), "/bin/sh\0-c\0echo \"hello $GREETING\"; echo oops >&2; exit 5\0"s);
    ktstr::test::write_text(sb.path("environment"), "GREETING=world\0"s);

    InitRun run(sb);
    run.go();
    CHECK(run.code == 5);
    CHECK(last_line(run.com2) == "KTSTR_EXIT=5");
    CHECK_THAT(run.console, Catch::Contains("hello world"));  // the echo
    CHECK_THAT(run.console, Catch::Contains("ktstr-init: exit code 5"));

    auto frames = ktstr::test::read_frames(sb.host(), 100, 500ms);
    auto t = tags(frames);
    REQUIRE(t.size() >= 8);
    CHECK(t[0] == "LIFE");
    CHECK(t[1] == "KADR");
    CHECK(t[2] == "SRDY");
    CHECK(t[3] == "LIFE");
    CHECK(t[t.size() - 2] == "EXCX");
    CHECK(t[t.size() - 1] == "EXIT");
    for (const auto& f : frames)
        CHECK(f.crc_ok);
    auto first = decode_lifecycle(frames[0].payload);
    REQUIRE(first);
    CHECK(first->phase == LifecyclePhase::InitStarted);
    auto second = decode_lifecycle(frames[3].payload);
    REQUIRE(second);
    CHECK(second->phase == LifecyclePhase::PayloadStarting);
    CHECK(second->reason == "/bin/sh");
    auto kadr = decode_kern_addrs(frames[1].payload);
    REQUIRE(kadr);
    CHECK(kadr->phys_base == (guest::native_arch() == guest::Arch::x86_64 ? 0x1d000000u : 0x1e000000u - 0x40000000u));
    CHECK(concat(frames, MsgType::Stdout) == "hello world\n");
    CHECK(concat(frames, MsgType::Stderr) == "oops\n");
    CHECK(decode_i32(frames[t.size() - 2].payload) == 5);
    CHECK(decode_i32(frames[t.size() - 1].payload) == 5);
}

TEST_CASE("without KTSTR_GUEST=1 init runs the command and reports on COM2 only", "[init][sequence]") {
    GuestSandbox sb;
    sb.set_cmdline(init_cmdline(sb, "KTSTR_INIT_ECHO=0"));
    sb.attach_port();
    ktstr::test::write_text(sb.path("command"), "/bin/sh\0-c\0echo quiet; exit 0\0"s);
    InitRun run(sb);
    run.go();
    CHECK(run.code == 0);
    CHECK(last_line(run.com2) == "KTSTR_EXIT=0");
    CHECK(run.console.find("quiet") == std::string::npos);  // echo off
    CHECK_FALSE(ktstr::test::readable(sb.host()));           // nothing on the bulk port
}

TEST_CASE("init failures end with a reason and a non-zero KTSTR_EXIT", "[init][sequence]") {
    GuestSandbox sb;
    struct Case {
        std::string extra;
        std::string command;
        std::string modules;
        int code;
        std::string reason;
        bool port;
    };
    const std::vector<Case> cases{
        {"KTSTR_GUEST=1", "", "", exit_code::bad_command, "recorded command", true},
        {"KTSTR_GUEST=1", "ktstr-no-such-command\0"s, "", exit_code::not_found, "command not found", true},
        {"", "/bin/true\0"s, "relative.ko\n", exit_code::module_failed, "line 1", false},
        {"", "/bin/true\0"s, "/nonexistent/x.ko\n", exit_code::module_failed, "module /nonexistent/x.ko", false},
        {"KTSTR_INIT_ECHO=maybe", "/bin/true\0"s, "", exit_code::bad_options, "KTSTR_INIT_ECHO", false},
        {"KTSTR_GUEST=1", "/bin/true\0"s, "", exit_code::no_bulk_port, "did not appear", false},
    };
    for (const auto& c : cases) {
        INFO(c.reason);
        std::filesystem::remove(sb.path("command"));
        std::filesystem::remove(sb.path("modules"));
        if (!c.command.empty())
            ktstr::test::write_text(sb.path("command"), c.command);
        if (!c.modules.empty())
            ktstr::test::write_text(sb.path("modules"), c.modules);
        sb.set_cmdline(init_cmdline(sb, c.extra));
        if (c.port) {
            sb.attach_port();
        } else {
            ::unsetenv(guest::bulk_fd_env);
            sb.refresh();
        }
        InitRun run(sb);
        run.go();
        CHECK(run.code == c.code);
        CHECK(last_line(run.com2) == "KTSTR_EXIT=" + std::to_string(c.code));
        CHECK_THAT(run.com2, Catch::Contains("ktstr-init: error: ") && Catch::Contains(c.reason));
        CHECK_THAT(run.console, Catch::Contains(c.reason));
        if (c.port) {
            auto frames = ktstr::test::read_frames(sb.host(), 100, 300ms);
            REQUIRE_FALSE(frames.empty());
            CHECK(tag_of(frames.back().msg_type()) == "EXIT");
            CHECK(decode_i32(frames.back().payload) == c.code);
            CHECK_THAT(concat(frames, MsgType::Stderr), Catch::Contains(c.reason));
        }
    }
}

namespace {

// A fake sched_ext for ktstr-init: sysfs files and an empty kernel log in
// the sandbox, the scheduler's argv file, and an environment (shared by
// the command and the scheduler, as init does) naming them and a FIFO.
void fake_sched_ext(GuestSandbox& sb, const std::string& scheduler_script) {
    std::filesystem::create_directories(sb.dir() / "sched_ext" / "root");
    ktstr::test::write_text(sb.dir() / "sched_ext" / "state", "disabled\n");
    ktstr::test::write_text(sb.dir() / "sched_ext" / "root" / "ops", "");
    ktstr::test::write_text(sb.path("kmsg"), "");
    ktstr::test::write_text(sb.path("sysrq-trigger"), "");
    REQUIRE(::mkfifo(sb.path("go").c_str(), 0600) == 0);
    ktstr::test::write_text(sb.path("scx_fake"), "#!/bin/sh\n" + scheduler_script + "\n");
    ::chmod(sb.path("scx_fake").c_str(), 0755);
    ktstr::test::write_text(sb.path("scheduler"), sb.path("scx_fake") + '\0');
    ktstr::test::write_text(sb.path("environment"), "SCX=" + sb.path("sched_ext") + '\0' + "KMSG=" + sb.path("kmsg") +
                                                        '\0' + "GO=" + sb.path("go") + '\0');
}

// Attaches once its SIGINT handler is in place; detaches on SIGINT.
const std::string well_behaved = R"(trap 'echo detached; exit 0' INT
echo attaching
printf fake > "$SCX/root/ops"
printf enabled > "$SCX/state"
while :; do sleep 0.01; done)";

std::optional<Lifecycle> lifecycle_at(const std::vector<Frame>& frames, std::size_t i) {
    if (i >= frames.size() || frames[i].msg_type() != to_u32(MsgType::Lifecycle))
        return std::nullopt;
    return decode_lifecycle(frames[i].payload);
}

std::size_t index_of(const std::vector<std::string>& tags, const std::string& tag, std::size_t from = 0) {
    for (std::size_t i = from; i < tags.size(); ++i)
        if (tags[i] == tag)
            return i;
    return tags.size();
}

}  // namespace

TEST_CASE("init with a scheduler: attached before the command, stopped after it, nothing else sent", "[init][scheduler]") {
    GuestSandbox sb;
    sb.set_cmdline(init_cmdline(sb, "KTSTR_GUEST=1 KTSTR_SCHED_ATTACH_MS=60000"));
    sb.attach_port();
    fake_sched_ext(sb, well_behaved);
    ktstr::test::write_text(sb.path("command"), "/bin/sh\0-c\0echo hello; exit 5\0"s);

    InitRun run(sb);
    run.go();
    CHECK(run.code == 5);
    CHECK(last_line(run.com2) == "KTSTR_EXIT=5");
    CHECK_THAT(run.console, Catch::Contains("scheduler attached (fate=attached program=scx_fake ops=fake"));

    auto frames = ktstr::test::read_frames(sb.host(), 1000, 500ms);
    auto t = tags(frames);
    REQUIRE(t.size() >= 7);
    CHECK(t[t.size() - 2] == "EXCX");
    CHECK(t[t.size() - 1] == "EXIT");
    CHECK(index_of(t, "SCDX") == t.size());
    CHECK(index_of(t, "DMSG") == t.size());
    // The attach record, then the command's PayloadStarting.
    const auto first_payload = index_of(t, "LIFE", 1);
    auto attach = lifecycle_at(frames, first_payload);
    REQUIRE(attach);
    CHECK(attach->phase == LifecyclePhase::PayloadStarting);
    auto fate = parse_fate(attach->reason);
    REQUIRE(fate);
    CHECK(fate->fate == SchedulerFate::Kind::attached);
    CHECK(fate->ops == "fake");
    auto command = lifecycle_at(frames, index_of(t, "LIFE", first_payload + 1));
    REQUIRE(command);
    CHECK(command->phase == LifecyclePhase::PayloadStarting);
    CHECK(command->reason == "/bin/sh");
    CHECK_FALSE(parse_fate(command->reason));
    CHECK(concat(frames, MsgType::Stdout) == "hello\n");
    CHECK(concat(frames, MsgType::SchedLog) == "attaching\ndetached\n");
}

TEST_CASE("init: the scheduler ejected while the command runs ends the command, 119", "[init][scheduler]") {
    GuestSandbox sb;
    sb.set_cmdline(init_cmdline(sb, "KTSTR_GUEST=1 KTSTR_SCHED_ATTACH_MS=60000"));
    sb.attach_port();
    // Attaches, waits for the command to let it go on, then "the kernel"
    // ejects it and it exits 0, as scx_simple does.
    fake_sched_ext(sb, R"(printf fake > "$SCX/root/ops"
printf enabled > "$SCX/state"
read go < "$GO"
printf '%s\n' '3,50,7000000,-;sched_ext: BPF scheduler "fake" disabled (scx_bpf_error)' >> "$KMSG"
printf '%s\n' '3,51,7000001,-;sched_ext: fake: invalid CPU 99' >> "$KMSG"
printf disabled > "$SCX/state"
echo 'EXIT: scx_bpf_error (invalid CPU 99)'
exit 0)");
    // The command releases the scheduler and would run forever.
    ktstr::test::write_text(sb.path("command"), "/bin/sh\0-c\0echo running; echo go > \"$GO\"; exec sleep 1000\0"s);

    InitRun run(sb);
    run.go();
    CHECK(run.code == exit_code::sched_died);
    CHECK(last_line(run.com2) == "KTSTR_EXIT=119");
    CHECK_THAT(run.com2, Catch::Contains("scheduler " + sb.path("scx_fake") + " was ejected while the command ran"));

    auto frames = ktstr::test::read_frames(sb.host(), 1000, 500ms);
    auto t = tags(frames);
    const auto scdx = index_of(t, "SCDX");
    REQUIRE(scdx < t.size());
    CHECK(decode_i32(frames[scdx].payload) == scx::exit_error_bpf);
    auto died = lifecycle_at(frames, scdx - 1);
    REQUIRE(died);
    CHECK(died->phase == LifecyclePhase::SchedulerDied);
    auto fate = parse_fate(died->reason);
    REQUIRE(fate);
    CHECK(fate->fate == SchedulerFate::Kind::ejected);
    CHECK(fate->kind == scx::exit_error_bpf);
    CHECK(fate->status == 0);
    CHECK(fate->text == "scx_bpf_error (invalid CPU 99)");
    // Dmesg and the scheduler's last words come before the record.
    const auto dmsg = index_of(t, "DMSG");
    CHECK(dmsg < scdx - 1);
    CHECK_THAT(concat(frames, MsgType::Dmesg), Catch::Contains("sched_ext: fake: invalid CPU 99"));
    CHECK_THAT(concat(frames, MsgType::SchedLog), Catch::Contains("EXIT: scx_bpf_error"));
    // The command was killed after SchedExit, and init still finished.
    const auto excx = index_of(t, "EXCX");
    REQUIRE(excx < t.size());
    CHECK(excx > scdx);
    CHECK(decode_i32(frames[excx].payload) == exit_code::signal_base + SIGKILL);
    CHECK(t.back() == "EXIT");
    CHECK(decode_i32(frames.back().payload) == exit_code::sched_died);
}

TEST_CASE("init: a scheduler that never attaches ends the run before the command, 118", "[init][scheduler]") {
    GuestSandbox sb;
    sb.set_cmdline(init_cmdline(sb, "KTSTR_GUEST=1 KTSTR_SCHED_ATTACH_MS=60000"));
    sb.attach_port();
    fake_sched_ext(sb, "echo 'failed to load BPF program'\nexit 2");
    ktstr::test::write_text(sb.path("command"), "/bin/sh\0-c\0echo should not run\0"s);

    InitRun run(sb);
    run.go();
    CHECK(run.code == exit_code::sched_not_attached);
    CHECK(last_line(run.com2) == "KTSTR_EXIT=118");
    CHECK_THAT(run.com2, Catch::Contains("never attached (fate=never_attached status=2"));

    auto frames = ktstr::test::read_frames(sb.host(), 1000, 500ms);
    auto t = tags(frames);
    const auto scdx = index_of(t, "SCDX");
    REQUIRE(scdx < t.size());
    CHECK(decode_i32(frames[scdx].payload) == 2);
    auto na = lifecycle_at(frames, scdx - 1);
    REQUIRE(na);
    CHECK(na->phase == LifecyclePhase::SchedulerNotAttached);
    auto fate = parse_fate(na->reason);
    REQUIRE(fate);
    CHECK(fate->status == 2);
    CHECK(fate->text == "failed to load BPF program");
    CHECK(concat(frames, MsgType::Stdout).empty());
    CHECK(index_of(t, "EXCX") == t.size());
    for (std::size_t i = 0; i < t.size(); ++i)
        if (auto l = lifecycle_at(frames, i))
            CHECK(l->phase != LifecyclePhase::PayloadStarting);
    CHECK(t.back() == "EXIT");
}

TEST_CASE("init: a malformed scheduler file is a bad recorded command", "[init][scheduler]") {
    GuestSandbox sb;
    sb.set_cmdline(init_cmdline(sb, ""));
    ktstr::test::write_text(sb.path("command"), "/bin/true\0"s);
    ktstr::test::write_text(sb.path("scheduler"), "no terminating NUL");
    InitRun run(sb);
    run.go();
    CHECK(run.code == exit_code::bad_command);
    CHECK_THAT(run.com2, Catch::Contains("recorded scheduler"));
}
