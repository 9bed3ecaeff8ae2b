#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "guest_sandbox.hpp"
#include "ktstr/common/msg_type.hpp"
#include "ktstr/guest/control_poller.hpp"
#include "ktstr/guest/shm_writer.hpp"

using namespace ktstr;
using namespace ktstr::guest;
using namespace std::chrono_literals;
using ktstr::test::GuestSandbox;

namespace {

std::shared_ptr<ShmWriter> make_writer(GuestSandbox& sb) {
    ktstr::test::write_text(sb.path("mem"), std::string(4096, '\0'));
    auto w = std::make_shared<ShmWriter>(PhysMapping::map(sb.path("mem"), 0, 4096));
    ring_init(w->region());
    return w;
}

}  // namespace

TEST_CASE("a dump request triggers SysRq-D and is cleared", "[guest][control]") {
    GuestSandbox sb;
    ktstr::test::write_text(sb.path("sysrq-trigger"), "");
    auto w = make_writer(sb);
    ring_store_control(w->region(), shm::dump_req_offset, shm::dump_req_sysrq_d);
    auto ev = poll_control_once(w->region());
    CHECK(ev.dump);
    CHECK_FALSE(ev.stall);
    CHECK_FALSE(ev.shutdown);
    CHECK(ktstr::test::read_text(sb.path("sysrq-trigger")) == "D");
    CHECK(ring_load_control(w->region(), shm::dump_req_offset) == 0);
    CHECK_FALSE(poll_control_once(w->region()).dump);
}

TEST_CASE("a stall request creates the stall file and is cleared", "[guest][control]") {
    GuestSandbox sb;
    auto w = make_writer(sb);
    ring_store_control(w->region(), shm::stall_req_offset, shm::stall_req_activate);
    CHECK(poll_control_once(w->region()).stall);
    CHECK(std::filesystem::exists(sb.path("ktstr_stall")));
    CHECK(ring_load_control(w->region(), shm::stall_req_offset) == 0);
}

TEST_CASE("other control values are left alone", "[guest][control]") {
    GuestSandbox sb;
    auto w = make_writer(sb);
    ring_store_control(w->region(), shm::dump_req_offset, 'X');
    ring_store_control(w->region(), shm::stall_req_offset, 'Y');
    auto ev = poll_control_once(w->region());
    CHECK_FALSE(ev.dump);
    CHECK_FALSE(ev.stall);
    CHECK(ring_load_control(w->region(), shm::dump_req_offset) == 'X');
    CHECK(ring_load_control(w->region(), shm::stall_req_offset) == 'Y');
    CHECK_FALSE(std::filesystem::exists(sb.path("ktstr_stall")));
}

TEST_CASE("the poller thread handles requests and stops at a shutdown request", "[guest][control]") {
    GuestSandbox sb;
    ktstr::test::write_text(sb.path("sysrq-trigger"), "");
    auto w = make_writer(sb);
    std::mutex m;
    std::condition_variable cv;
    bool called = false;
    ControlPoller poller(w, 2ms, [&] {
        std::lock_guard lk(m);
        called = true;
        cv.notify_all();
    });
    ring_store_control(w->region(), shm::dump_req_offset, shm::dump_req_sysrq_d);
    // Until the poller acted; the bound only ends a test that would hang.
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    while (poller.dumps() == 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(1ms);
    CHECK(poller.dumps() == 1);
    ring_signal(w->region(), 0, shm::signal_shutdown_req);
    std::unique_lock lk(m);
    CHECK(cv.wait_for(lk, 10s, [&] { return called; }));
    CHECK(poller.shutdown_seen());
}

TEST_CASE("a poller stops promptly when destroyed", "[guest][control]") {
    GuestSandbox sb;
    auto w = make_writer(sb);
    const auto t0 = std::chrono::steady_clock::now();
    { ControlPoller poller(w, 1h); }
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
}

TEST_CASE("a dump request sends the kernel log that follows as Dmesg frames", "[guest][control]") {
    GuestSandbox sb;
    sb.attach_port();
    ktstr::test::write_text(sb.path("sysrq-trigger"), "");
    // The kernel log is a FIFO holding what "the kernel" logs for the dump:
    // the poller opens it at the trigger and reads what is queued.
    REQUIRE(::mkfifo(sb.path("kmsg").c_str(), 0600) == 0);
    UniqueFd kmsg(::open(sb.path("kmsg").c_str(), O_RDWR | O_CLOEXEC));
    REQUIRE(kmsg);
    const std::string records = "6,1,5000000,-;sched_ext: BPF scheduler \"simple\" dump\n"
                                " SUBSYSTEM=none\n"
                                "6,2,5000001,-;  cpu 0: nr_run=1\n";
    REQUIRE(::write(kmsg.get(), records.data(), records.size()) == static_cast<ssize_t>(records.size()));
    auto w = make_writer(sb);
    ring_store_control(w->region(), shm::dump_req_offset, shm::dump_req_sysrq_d);
    KernelLogLimits limits;
    limits.quiet = 50ms;
    auto ev = poll_control_once(w->region(), limits);
    CHECK(ev.dump);
    CHECK(ktstr::test::read_text(sb.path("sysrq-trigger")) == "D");
    CHECK(ring_load_control(w->region(), shm::dump_req_offset) == 0);
    const std::string expected = "[    5.000000] sched_ext: BPF scheduler \"simple\" dump\n"
                                 "[    5.000001]   cpu 0: nr_run=1\n";
    CHECK(ev.dump_bytes == expected.size());
    auto frames = ktstr::test::read_frames(sb.host(), 1, 5s);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].msg_type() == to_u32(MsgType::Dmesg));
    CHECK(ktstr::test::text(frames[0]) == expected);
}
