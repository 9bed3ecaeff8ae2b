// The guest side against stand-in ports: a sysfs-like directory of port
// names and regular files for the port device nodes. It runs in a child
// process because it takes over stderr.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "emulated_host/guest_side.hpp"
#include "emulated_host/output_stream.hpp"

using namespace ktstr::vmm::emulated_host;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "ktstr-guestside-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_text(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void make_port(const fs::path& sys, const fs::path& dev, const std::string& node, const std::string& name) {
    fs::create_directories(sys / node);
    std::ofstream(sys / node / "name") << name << "\n";
    std::ofstream(dev / node).flush();
}

int run_in_child(const GuestSideOptions& o) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        ::_exit(run_guest_side(o));
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    REQUIRE(WIFEXITED(st));
    return WEXITSTATUS(st);
}

}  // namespace

TEST_CASE("guest side: output on the ports, the exit status, then the output files") {
    TempDir d;
    const auto sys = d.path / "sys", dev = d.path / "dev";
    fs::create_directories(dev);
    make_port(sys, dev, "vport0p2", "ktstr.stdout");
    make_port(sys, dev, "vport0p3", "ktstr.stderr");
    make_port(sys, dev, "vport0p4", "ktstr.files");
    make_port(sys, dev, "vport0p1", "ktstr-bulk");  // someone else's port: ignored

    GuestSideOptions o;
    o.ports_dir = sys;
    o.dev_dir = dev;
    o.cwd = d.path / "work" / "dir";
    o.outputs = {d.path / "results" / "report.txt"};
    o.command = {"/bin/sh", "-c", "echo out; echo err >&2; pwd > ../../results/report.txt; exit 3"};
    CHECK(run_in_child(o) == 3);
    CHECK(read_text(dev / "vport0p2") == "out\n");
    CHECK(read_text(dev / "vport0p3") == "err\n");

    // The files port carries the report; replay it into a fresh place.
    const auto stream = read_text(dev / "vport0p4");
    fs::remove(o.outputs[0]);
    OutputReceiver r(o.outputs);
    r.feed({reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size()});
    CHECK_FALSE(r.finish());
    CHECK(read_text(o.outputs[0]) == (d.path / "work" / "dir").string() + "\n");
}

TEST_CASE("guest side: a command killed by a signal reports 128 + the signal") {
    TempDir d;
    const auto sys = d.path / "sys", dev = d.path / "dev";
    fs::create_directories(dev);
    make_port(sys, dev, "vport0p2", "ktstr.stdout");
    make_port(sys, dev, "vport0p3", "ktstr.stderr");
    make_port(sys, dev, "vport0p4", "ktstr.files");
    GuestSideOptions o;
    o.ports_dir = sys;
    o.dev_dir = dev;
    o.command = {"/bin/sh", "-c", "kill -TERM $$"};
    CHECK(run_in_child(o) == 128 + 15);
}

TEST_CASE("guest side: a missing command gives 127 and says so on the stderr port") {
    TempDir d;
    const auto sys = d.path / "sys", dev = d.path / "dev";
    fs::create_directories(dev);
    make_port(sys, dev, "vport0p2", "ktstr.stdout");
    make_port(sys, dev, "vport0p3", "ktstr.stderr");
    make_port(sys, dev, "vport0p4", "ktstr.files");
    GuestSideOptions o;
    o.ports_dir = sys;
    o.dev_dir = dev;
    o.command = {(d.path / "no-such-program").string()};
    CHECK(run_in_child(o) == 127);
    CHECK_THAT(read_text(dev / "vport0p3"), Catch::Contains("cannot run"));
}

TEST_CASE("guest side: ports that never appear give 125 with the reason, within the wait") {
    TempDir d;
    GuestSideOptions o;
    o.ports_dir = d.path / "sys";
    o.dev_dir = d.path / "dev";
    o.port_wait = std::chrono::milliseconds(100);
    o.command = {"/bin/true"};
    CHECK(run_in_child(o) == 125);
}
