// The guest side against a stand-in port: a sysfs-like directory of port
// names and a regular file for the port's device node, which then holds
// the return stream. It runs in a child process, since it forks and
// waits like the real one.
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
#include "emulated_host/return_stream.hpp"
#include "ktstr/test/file_contents.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::emulated_host;
using ktstr::test::TempDir;
using ktstr::test::read_text;
namespace fs = std::filesystem;

namespace {

void make_port(const fs::path& sys, const fs::path& dev, const std::string& node, const std::string& name) {
    fs::create_directories(sys / node);
    std::ofstream(sys / node / "name") << name << "\n";
    std::ofstream(dev / node).flush();
}

// A port directory with the data port, and someone else's port 1.
struct Ports {
    TempDir d{"guestside"};
    fs::path sys = d.path() / "sys", dev = d.path() / "dev";
    Ports() {
        fs::create_directories(dev);
        make_port(sys, dev, "vport0p1", "ktstr-bulk");
        make_port(sys, dev, "vport0p2", "ktstr.data");
    }
    GuestSideOptions options() const {
        GuestSideOptions o;
        o.ports_dir = sys;
        o.dev_dir = dev;
        o.ack_wait = std::chrono::milliseconds(100);
        return o;
    }
    fs::path data() const { return dev / "vport0p2"; }
};

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

struct Returned {
    std::string out, err;
    std::optional<std::string> error;
    bool ended = false;
};

Returned replay(const fs::path& stream_file, std::vector<fs::path> outputs) {
    Returned r;
    ReturnStreamReceiver rx({.files = std::move(outputs)}, [&](std::uint32_t kind, ktstr::byte_view b) {
        (kind == return_kind_stdout ? r.out : r.err).append(reinterpret_cast<const char*>(b.data()), b.size());
    });
    const auto s = read_text(stream_file);
    rx.feed({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    r.ended = rx.ended();
    r.error = rx.finish();
    return r;
}

}  // namespace

TEST_CASE("guest side: stdout and stderr, then the output files and the end, and the exit status") {
    Ports p;
    auto o = p.options();
    o.cwd = p.d.path() / "work" / "dir";
    o.outputs = {p.d.path() / "results" / "report.txt"};
    o.command = {"/bin/sh", "-c", "echo out; echo err >&2; echo more; pwd > ../../results/report.txt; exit 3"};
    CHECK(run_in_child(o) == 3);

    fs::remove(o.outputs[0]);  // it must come back from the stream
    auto r = replay(p.data(), o.outputs);
    CHECK_FALSE(r.error);
    CHECK(r.ended);
    CHECK(r.out == "out\nmore\n");
    CHECK(r.err == "err\n");
    CHECK(read_text(o.outputs[0]) == (p.d.path() / "work" / "dir").string() + "\n");
}

TEST_CASE("guest side: a command killed by a signal reports 128 + the signal") {
    Ports p;
    auto o = p.options();
    o.command = {"/bin/sh", "-c", "kill -TERM $$"};
    CHECK(run_in_child(o) == 128 + 15);
    CHECK(replay(p.data(), {}).ended);
}

TEST_CASE("guest side: a missing command gives 127 and says so on stderr") {
    Ports p;
    auto o = p.options();
    o.command = {(p.d.path() / "no-such-program").string()};
    CHECK(run_in_child(o) == 127);
    auto r = replay(p.data(), {});
    CHECK_THAT(r.err, Catch::Contains("cannot run"));
    CHECK(r.ended);
}

TEST_CASE("guest side: a descendant holding the output open does not hold up the end beyond the grace") {
    Ports p;
    auto o = p.options();
    // The descendant sleeps far longer than any load could stretch the
    // grace, so the bound tells "gave up after the grace" from "waited for
    // the descendant" whatever the machine is doing.
    o.command = {"/bin/sh", "-c", "sleep 300 & echo started"};
    const auto start = std::chrono::steady_clock::now();
    CHECK(run_in_child(o) == 0);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(200));
    auto r = replay(p.data(), {});
    CHECK(r.out == "started\n");
    CHECK(r.ended);
}

TEST_CASE("guest side: a port that never appears gives 125 within the wait") {
    TempDir d{"guestside"};
    GuestSideOptions o;
    o.ports_dir = d.path() / "sys";
    o.dev_dir = d.path() / "dev";
    o.port_wait = std::chrono::milliseconds(100);
    o.command = {"/bin/true"};
    CHECK(run_in_child(o) == 125);
}
