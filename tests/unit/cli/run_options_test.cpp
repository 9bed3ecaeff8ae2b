#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/run_options.hpp"

using namespace ktstr::cli;
using V = std::vector<std::string>;
namespace fs = std::filesystem;

namespace {

// `run ARGS` parsed by the table's own CLI11 setup.
RunOptions parse_run(const V& args) {
    CLI::App root{"test"};
    auto* run = root.add_subcommand("run");
    RunOptions o;
    add_run_options(*run, o);
    std::vector<const char*> argv{"ktstr-vmm"};
    for (const auto& a : args)
        argv.push_back(a.c_str());
    root.parse(static_cast<int>(argv.size()), argv.data());
    return o;
}

const ResolvedValues resolved{{"--kernel", "/k/vmlinux"},
                               {"--kernel-entry", "pvh"},
                               {"--initramfs", "/i/image.cpio"},
                               {"--kvm", "host"}};

// The options part of an inner command line (before the "--").
V options_of(const V& inner) {
    return V(inner.begin(), std::find(inner.begin(), inner.end(), "--"));
}

bool has_option(const V& options, const std::string& name) {
    return std::any_of(options.begin(), options.end(),
                       [&](const std::string& a) { return a == name || a.starts_with(name + "="); });
}

// Every option set, the outputs as absolute paths.
const V every_option{"run",
                     "--kernel", "/home/me/bzImage",
                     "--kernel-entry", "auto",
                     "--modules", "/home/me/modules",
                     "--cpus", "3",
                     "--topology", "1,1,3,1",
                     "--memory", "512",
                     "--shm-size", "2M",
                     "--timeout", "7",
                     "--boot-timeout", "9",
                     "--kvm", "emulated",
                     "--include", "/etc/hostname",
                     "--scheduler", "scx_qmap",
                     "--scheduler-arg", "-e",
                     "--scheduler-arg", "100",
                     "--console-log", "/tmp/out/console.log",
                     "--messages", "/tmp/out/messages.jsonl",
                     "--output-dir", "/tmp/out/dir",
                     "--json",
                     "--json-file", "/tmp/out/result.json",
                     "--summary",
                     "-v",
                     "--append", "-not-an-option and spaces",
                     "--",
                     "sh", "-c", "echo hi; false"};

}  // namespace

TEST_CASE("run options: every option the inner run gets is on its command line, the others are not") {
    const auto inner = inner_run_arguments(parse_run(every_option), resolved);
    REQUIRE(inner.front() == "run");
    const auto options = options_of(inner);
    for (const auto& spec : run_option_table()) {
        const auto name = long_name(spec);
        INFO(name);
        CHECK(has_option(options, name) == (spec.inner != Inner::outer_only));
    }
    CHECK(!has_option(options, "--modules"));
    CHECK(!has_option(options, "--include"));
}

TEST_CASE("run options: each value is one --name=value argument, resolved ones replace the user's") {
    const auto options = options_of(inner_run_arguments(parse_run(every_option), resolved));
    CHECK(options == V{"run",
                       "--kernel=/k/vmlinux",
                       "--kernel-entry=pvh",
                       "--cpus=3",
                       "--topology=1,1,3,1",
                       "--memory=512",
                       "--shm-size=2M",
                       "--timeout=7",
                       "--boot-timeout=9",
                       "--kvm=host",
                       "--scheduler=scx_qmap",
                       "--scheduler-arg=-e",
                       "--scheduler-arg=100",
                       "--console-log=/tmp/out/console.log",
                       "--messages=/tmp/out/messages.jsonl",
                       "--output-dir=/tmp/out/dir",
                       "--json",
                       "--json-file=/tmp/out/result.json",
                       "--summary",
                       "--verbose",
                       "--append=-not-an-option and spaces",
                       "--initramfs=/i/image.cpio"});
}

TEST_CASE("run options: the command follows -- untouched") {
    const auto inner = inner_run_arguments(parse_run(V{"run", "--", "prog", "--kvm", "emulated", "--"}), resolved);
    const auto dashes = std::find(inner.begin(), inner.end(), "--");
    REQUIRE(dashes != inner.end());
    CHECK(V(dashes + 1, inner.end()) == V{"prog", "--kvm", "emulated", "--"});
}

TEST_CASE("run options: the inner command line parses back to the same run") {
    const auto outer = parse_run(every_option);
    const auto inner = inner_run_arguments(outer, resolved);
    const auto back = parse_run(inner);
    CHECK(back.kernel == "/k/vmlinux");
    CHECK(back.kernel_entry == "pvh");
    CHECK(back.initramfs == "/i/image.cpio");
    CHECK(back.kvm == KvmMode::host);
    CHECK(back.modules.empty());
    CHECK(back.includes.empty());
    CHECK(back.cpus == outer.cpus);
    CHECK(back.memory_mib == outer.memory_mib);
    CHECK(back.shm_size == outer.shm_size);
    CHECK(back.timeout_s == outer.timeout_s);
    CHECK(back.boot_timeout_s == outer.boot_timeout_s);
    CHECK(back.console_log == outer.console_log);
    CHECK(back.messages == outer.messages);
    CHECK(back.output_dir == outer.output_dir);
    CHECK(back.json == outer.json);
    CHECK(back.json_file == outer.json_file);
    CHECK(back.summary == outer.summary);
    CHECK(back.verbose == outer.verbose);
    CHECK(back.append == outer.append);
    CHECK(back.scheduler == "scx_qmap");
    CHECK(back.scheduler_args == std::vector<std::string>{"-e", "100"});  // a dash-led value parses back too
    CHECK(back.command == outer.command);
}

TEST_CASE("run options: unset text options and flags stay off; numbers always go with their value") {
    const auto options = options_of(inner_run_arguments(parse_run(V{"run", "--", "true"}), resolved));
    for (const char* absent : {"--console-log", "--messages", "--output-dir", "--json", "--json-file", "--summary",
                               "--verbose", "--append", "--scheduler", "--scheduler-arg"})
        CHECK(!has_option(options, absent));
    for (const char* present : {"--cpus=2", "--memory=256", "--shm-size=1M", "--timeout=60", "--boot-timeout=300"})
        CHECK(std::find(options.begin(), options.end(), present) != options.end());
}

TEST_CASE("run options: relative output paths become absolute, and they are what comes back") {
    const auto o = parse_run(V{"run", "--console-log", "c.log", "--json-file", "r.json", "--output-dir", "d", "--",
                               "true"});
    const auto options = options_of(inner_run_arguments(o, resolved));
    const auto cwd = fs::current_path();
    CHECK(std::find(options.begin(), options.end(), "--console-log=" + (cwd / "c.log").string()) != options.end());
    const auto outputs = inner_run_outputs(o);
    CHECK(outputs.files == std::vector<fs::path>{cwd / "c.log", cwd / "r.json"});
    CHECK(outputs.directories == std::vector<fs::path>{cwd / "d"});
}

TEST_CASE("run options: a resolved option needs its settled value") {
    CHECK_THROWS_AS(inner_run_arguments(parse_run(V{"run", "--", "true"}), ResolvedValues{{"--kvm", "host"}}),
                    std::logic_error);
}
