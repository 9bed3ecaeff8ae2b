#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include "append_file.hpp"
#include "guest_sandbox.hpp"
#include "ktstr/guest/kernel_log.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::append;
using ktstr::test::GuestSandbox;

namespace {

std::vector<std::string> texts(const std::vector<KmsgRecord>& v) {
    std::vector<std::string> out;
    for (const auto& r : v)
        out.push_back(r.text);
    return out;
}

}  // namespace

TEST_CASE("the kernel log is read from where it was opened, as records are added", "[kernel_log]") {
    GuestSandbox sb;
    append(sb.path("kmsg"), "6,1,10,-;before the open\n");
    auto log = KernelLog::open_at_end();
    REQUIRE(log.is_open());
    std::vector<KmsgRecord> out;
    CHECK(log.read_available(out) == 0);
    append(sb.path("kmsg"), "6,2,20,-;after\n SUBSYSTEM=x\n6,3,30,-;part");
    CHECK(log.read_available(out) == 1);
    append(sb.path("kmsg"), "ial\n");
    CHECK(log.read_available(out) == 1);
    CHECK(texts(out) == std::vector<std::string>{"after", "partial"});
}

TEST_CASE("a log that cannot be opened reads nothing", "[kernel_log]") {
    GuestSandbox sb;
    auto log = KernelLog::open_at_end();  // no kmsg file in the sandbox
    CHECK_FALSE(log.is_open());
    CHECK_THAT(log.error(), Catch::Contains("kmsg"));
    std::vector<KmsgRecord> out;
    CHECK(log.read_available(out) == 0);
}

TEST_CASE("one read_available call is bounded", "[kernel_log]") {
    GuestSandbox sb;
    append(sb.path("kmsg"), "");
    auto log = KernelLog::open_at_end();
    std::string many;
    for (int i = 0; i < 10000; ++i)
        many += "6," + std::to_string(i) + ",1,-;record number " + std::to_string(i) + "\n";
    append(sb.path("kmsg"), many);
    std::vector<KmsgRecord> out;
    const auto first = log.read_available(out, 4096);
    CHECK(first > 0);
    CHECK(first < 10000);
    while (log.read_available(out, 4096) != 0) {
    }
    REQUIRE(out.size() == 10000);
    CHECK(out.back().text == "record number 9999");
}

TEST_CASE("a FIFO stands in for /dev/kmsg too", "[kernel_log]") {
    GuestSandbox sb;
    REQUIRE(::mkfifo(sb.path("kmsg").c_str(), 0600) == 0);
    // Held open read+write so that what is written waits in the FIFO for
    // the reader that opens later.
    UniqueFd writer(::open(sb.path("kmsg").c_str(), O_RDWR | O_CLOEXEC));
    REQUIRE(writer);
    const std::string records = "6,1,1,-;queued first\n6,2,2,-;queued second\n";
    REQUIRE(::write(writer.get(), records.data(), records.size()) == static_cast<ssize_t>(records.size()));
    auto log = KernelLog::open_at_end();  // cannot seek: reads what is queued
    REQUIRE(log.is_open());
    std::vector<KmsgRecord> out;
    CHECK(log.read_available(out) == 2);
    CHECK(log.read_available(out) == 0);  // empty, writer open: EAGAIN
    CHECK(texts(out) == std::vector<std::string>{"queued first", "queued second"});
}
