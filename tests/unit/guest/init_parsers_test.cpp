#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include "exit_codes.hpp"
#include "exit_report.hpp"
#include "guest_sandbox.hpp"
#include "init_options.hpp"
#include "module_list.hpp"
#include "recorded_command.hpp"

using namespace ktstr::init;
using namespace std::string_literals;

TEST_CASE("recorded argv and environment are NUL-terminated lists", "[init][command]") {
    auto c = parse_recorded_command("/bin/sh\0-c\0echo hi\0\0"s, "A=1\0B=x=y\0"s);
    CHECK(c.argv == std::vector<std::string>{"/bin/sh", "-c", "echo hi", ""});
    CHECK(c.env == std::vector<std::string>{"A=1", "B=x=y"});
    CHECK(parse_recorded_command("true\0"s, "").env.empty());
}

TEST_CASE("malformed recorded commands are rejected with a reason", "[init][command]") {
    CHECK_THROWS_WITH(parse_recorded_command("", ""), Catch::Contains("empty"));
    CHECK_THROWS_WITH(parse_recorded_command("/bin/sh\0-c"s, ""), Catch::Contains("does not end with a NUL"));
    CHECK_THROWS_WITH(parse_recorded_command("\0x\0"s, ""), Catch::Contains("argv[0] is empty"));
    CHECK_THROWS_WITH(parse_recorded_command("x\0"s, "NOEQUALS\0"s), Catch::Contains("entry 0 is not NAME=value"));
    CHECK_THROWS_WITH(parse_recorded_command("x\0"s, "A=1\0=v\0"s), Catch::Contains("entry 1"));
    std::string many;
    for (std::size_t i = 0; i <= max_recorded_entries; ++i)
        many += "a"s + '\0';
    CHECK_THROWS_WITH(parse_nul_list(many, "command"), Catch::Contains("more than"));
    std::string long_entry(max_recorded_entry + 1, 'a');
    long_entry.push_back('\0');
    CHECK_THROWS_WITH(parse_nul_list(long_entry, "command"), Catch::Contains("longer than"));
}

TEST_CASE("recorded command files: a missing environment file is empty", "[init][command]") {
    ktstr::test::GuestSandbox sb;
    ktstr::test::write_text(sb.path("command"), "/bin/true\0"s);
    auto c = read_recorded_command(sb.path("command"), sb.path("no-env"));
    CHECK(c.argv == std::vector<std::string>{"/bin/true"});
    CHECK(c.env.empty());
    CHECK_THROWS_WITH(read_recorded_command(sb.path("nope"), sb.path("no-env")),
                      Catch::Contains("nope") && Catch::Contains("No such file"));
}

TEST_CASE("the command's PATH always holds the standard directories", "[init][command]") {
    auto env = command_environment({"A=1"}, -1);
    CHECK(env == std::vector<std::string>{"A=1", "PATH=/bin:/sbin:/usr/bin:/usr/sbin"});
    env = command_environment({"PATH=/opt/bin:/usr/bin", "KTSTR_BULK_FD=9"}, 5);
    CHECK(env == std::vector<std::string>{"PATH=/opt/bin:/usr/bin:/bin:/sbin:/usr/sbin", "KTSTR_BULK_FD=5"});
    CHECK(env_value(env, "PATH") == std::optional<std::string_view>("/opt/bin:/usr/bin:/bin:/sbin:/usr/sbin"));
    CHECK_FALSE(env_value(env, "PAT"));
}

TEST_CASE("executables are resolved like execvp, never from the current directory", "[init][command]") {
    ktstr::test::GuestSandbox sb;
    auto r = resolve_executable("sh", "::/nonexistent:/bin");
    CHECK(r.status == Resolve::found);
    CHECK(r.path == "/bin/sh");
    CHECK(resolve_executable("ktstr-no-such-program", "/bin:/usr/bin").status == Resolve::not_found);
    ktstr::test::write_text(sb.path("script"), "#!/bin/sh\n");
    ::chmod(sb.path("script").c_str(), 0644);
    auto n = resolve_executable("script", sb.dir().string());
    CHECK(n.status == Resolve::not_executable);
    CHECK(n.path == sb.path("script"));
    CHECK(resolve_executable(sb.path("script"), "").status == Resolve::not_executable);
    CHECK(resolve_executable("/bin/sh", "").status == Resolve::found);
    CHECK(resolve_executable("/bin", "").status == Resolve::not_executable);  // a directory
}

TEST_CASE("the module list keeps its order, parameters and compression", "[init][modules]") {
    auto m = parse_module_list(
        "# dependencies first\n"
        "/lib/modules/virtio.ko\n"
        "\n"
        "  /lib/modules/virtio_console.ko.zst   \n"
        "/lib/modules/scx.ko.xz  debug=1  name=abc\r\n"
        "/lib/modules/gz.ko.gz");
    REQUIRE(m.size() == 4);
    CHECK(m[0].path == "/lib/modules/virtio.ko");
    CHECK_FALSE(m[0].compressed);
    CHECK(m[0].line == 2);
    CHECK(m[1].path == "/lib/modules/virtio_console.ko.zst");
    CHECK(m[1].compressed);
    CHECK(m[1].params.empty());
    CHECK(m[2].params == "debug=1  name=abc");
    CHECK(m[2].compressed);
    CHECK(m[3].line == 6);
    CHECK(parse_module_list("").empty());
}

TEST_CASE("malformed module lines are named by line number", "[init][modules]") {
    CHECK_THROWS_WITH(parse_module_list("/a.ko\nrelative.ko\n"), Catch::Contains("line 2") && Catch::Contains("not absolute"));
    CHECK_THROWS_WITH(parse_module_list("/lib/modules/foo.o\n"), Catch::Contains("line 1") && Catch::Contains(".ko"));
}

TEST_CASE("a module that cannot be opened is reported by name", "[init][modules]") {
    auto f = load_modules({{"/nonexistent/ktstr-test.ko", "", false, 1}});
    REQUIRE(f.size() == 1);
    CHECK(f[0].path == "/nonexistent/ktstr-test.ko");
    CHECK_THAT(f[0].reason, Catch::Contains("cannot open"));
    CHECK(load_modules({}).empty());
}

TEST_CASE("init options from the kernel command line", "[init][options]") {
    std::vector<std::string> errors;
    auto d = parse_init_options("console=ttyS0", errors);
    CHECK(errors.empty());
    CHECK_FALSE(d.guest);
    CHECK(d.command_file == "/etc/ktstr/command");
    CHECK(d.env_file == "/etc/ktstr/environment");
    CHECK(d.modules_file == "/etc/ktstr/modules");
    CHECK(d.com2 == "/dev/ttyS1");
    CHECK(d.echo);
    CHECK(d.port_wait == std::chrono::milliseconds(10000));
    CHECK(d.scheduler_file == "/etc/ktstr/scheduler");
    CHECK_FALSE(d.sched_attach);

    auto o = parse_init_options(
        "KTSTR_GUEST=1 KTSTR_INIT_COMMAND=/x/cmd KTSTR_INIT_ENV=/x/env KTSTR_INIT_MODULES=/x/mods "
        "KTSTR_INIT_COM2=/dev/ttyAMA1 KTSTR_INIT_PORT_WAIT_MS=250 KTSTR_INIT_SYSRDY_MS=0 KTSTR_INIT_ECHO=0 "
        "KTSTR_INIT_SCHEDULER=/x/sched KTSTR_SCHED_ATTACH_MS=30000",
        errors);
    CHECK(errors.empty());
    CHECK(o.guest);
    CHECK(o.command_file == "/x/cmd");
    CHECK(o.env_file == "/x/env");
    CHECK(o.modules_file == "/x/mods");
    CHECK(o.com2 == "/dev/ttyAMA1");
    CHECK(o.port_wait == std::chrono::milliseconds(250));
    CHECK(o.sysrdy_budget == std::chrono::milliseconds(0));
    CHECK_FALSE(o.echo);
    CHECK(o.scheduler_file == "/x/sched");
    CHECK(o.sched_attach == std::chrono::milliseconds(30000));
}

TEST_CASE("malformed scheduler options are reported and keep their defaults", "[init][options]") {
    std::vector<std::string> errors;
    auto o = parse_init_options("KTSTR_INIT_SCHEDULER=sched KTSTR_SCHED_ATTACH_MS=10s", errors);
    REQUIRE(errors.size() == 2);
    CHECK_THAT(errors[0], Catch::Contains("KTSTR_INIT_SCHEDULER=sched"));
    CHECK_THAT(errors[1], Catch::Contains("KTSTR_SCHED_ATTACH_MS=10s"));
    CHECK(o.scheduler_file == "/etc/ktstr/scheduler");
    CHECK_FALSE(o.sched_attach);
}

TEST_CASE("a malformed init option is reported and keeps its default, the others apply", "[init][options]") {
    std::vector<std::string> errors;
    auto o = parse_init_options("KTSTR_INIT_COMMAND=relative KTSTR_INIT_PORT_WAIT_MS=5s KTSTR_INIT_SYSRDY_MS=99999999999 "
                                "KTSTR_INIT_ECHO=yes KTSTR_INIT_COM2=/tmp/com2 KTSTR_INIT_ENV=",
                                errors);
    REQUIRE(errors.size() == 5);
    CHECK_THAT(errors[0], Catch::Contains("KTSTR_INIT_COMMAND=relative"));
    CHECK_THAT(errors[1], Catch::Contains("KTSTR_INIT_ENV="));
    CHECK_THAT(errors[2], Catch::Contains("KTSTR_INIT_PORT_WAIT_MS=5s"));
    CHECK_THAT(errors[3], Catch::Contains("up to"));
    CHECK_THAT(errors[4], Catch::Contains("0 or 1"));
    CHECK(o.command_file == "/etc/ktstr/command");
    CHECK(o.port_wait == std::chrono::milliseconds(10000));
    CHECK(o.echo);
    CHECK(o.com2 == "/tmp/com2");
}

TEST_CASE("the exit line and exit codes from wait statuses", "[init][exit]") {
    CHECK(exit_line(0) == "KTSTR_EXIT=0\n");
    CHECK(exit_line(127) == "KTSTR_EXIT=127\n");
    CHECK(exit_line(-1) == "KTSTR_EXIT=-1\n");

    pid_t a = ::fork();
    REQUIRE(a >= 0);
    if (a == 0)
        ::_exit(3);
    int st = 0;
    REQUIRE(::waitpid(a, &st, 0) == a);
    CHECK(exit_code_from_wait_status(st) == 3);

    pid_t b = ::fork();
    REQUIRE(b >= 0);
    if (b == 0) {
        ::pause();
        ::_exit(0);
    }
    ::kill(b, SIGKILL);
    REQUIRE(::waitpid(b, &st, 0) == b);
    CHECK(exit_code_from_wait_status(st) == exit_code::signal_base + SIGKILL);
}

TEST_CASE("a serial line writes whole lines", "[init][exit]") {
    ktstr::test::GuestSandbox sb;
    ktstr::test::write_text(sb.path("com2"), "");
    {
        SerialLine line(sb.path("com2"));
        REQUIRE(line.is_open());
        line.write_line("hello");
        line.write_line(exit_line(4));
        line.drain();
    }
    CHECK(ktstr::test::read_text(sb.path("com2")) == "hello\nKTSTR_EXIT=4\n");
    SerialLine missing(sb.path("no-such-tty"));
    CHECK_FALSE(missing.is_open());
    missing.write_line("dropped");  // no effect, no crash
}
